package whip

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// audioOffer is what the publisher's offer says about its one audio track.
type audioOffer struct {
	channels int // 2 when the publisher sends stereo (sprop-stereo=1), else 1
}

// checkOffer refuses an offer that whip cannot take, before any
// PeerConnection is made: no audio the publisher sends (ErrNoAudio), more
// than one such track (ErrTwoAudio), or audio without Opus among its
// codecs (ErrCodec). Video sections pass: the answer rejects them.
func checkOffer(sdp string) (audioOffer, error) {
	if !strings.HasPrefix(sdp, "v=0") {
		return audioOffer{}, fmt.Errorf("whip: offer does not start with v=0: %w", ErrBadOffer)
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}
	parsed, err := desc.Unmarshal()
	if err != nil {
		return audioOffer{}, fmt.Errorf("whip: parse offer: %w: %w", ErrBadOffer, err)
	}
	var found []audioOffer
	opus := false
	for _, m := range parsed.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		dir := "sendrecv"
		pts := map[string]bool{}
		fmtp := map[string]string{}
		for _, a := range m.Attributes {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				dir = a.Key
			case "rtpmap":
				pt, codec, _ := strings.Cut(a.Value, " ")
				name, _, _ := strings.Cut(codec, "/")
				if strings.EqualFold(name, "opus") {
					pts[pt] = true
				}
			case "fmtp":
				pt, params, _ := strings.Cut(a.Value, " ")
				fmtp[pt] = params
			}
		}
		if dir != "sendrecv" && dir != "sendonly" {
			continue
		}
		a := audioOffer{channels: 1}
		for pt := range pts {
			opus = true
			if hasParam(fmtp[pt], "sprop-stereo", "1") {
				a.channels = 2
			}
		}
		found = append(found, a)
	}
	switch {
	case len(found) == 0:
		return audioOffer{}, ErrNoAudio
	case len(found) > 1:
		return audioOffer{}, ErrTwoAudio
	case !opus:
		return audioOffer{}, ErrCodec
	}
	return found[0], nil
}

// hasParam reports whether the fmtp parameter list params ("a=1;b=2") sets
// key to value.
func hasParam(params, key, value string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, key) && strings.TrimSpace(v) == value {
			return true
		}
	}
	return false
}
