package whip

import (
	"errors"
	"testing"
)

func TestCheckOffer(t *testing.T) {
	const head = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	audio := func(dir, codec, fmtp string) string {
		s := "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=" + dir + "\r\na=rtpmap:111 " + codec + "\r\n"
		if fmtp != "" {
			s += "a=fmtp:111 " + fmtp + "\r\n"
		}
		return s
	}
	tests := []struct {
		name     string
		sdp      string
		channels int
		err      error
	}{
		{"mono Opus", head + audio("sendonly", "opus/48000/2", "minptime=10;useinbandfec=1"), 1, nil},
		{"stereo Opus", head + audio("sendonly", "opus/48000/2", "stereo=1; sprop-stereo=1"), 2, nil},
		// stereo=1 is what the offerer would like to receive, not what it sends.
		{"stereo wished, mono sent", head + audio("sendrecv", "OPUS/48000/2", "stereo=1"), 1, nil},
		{"no direction is sendrecv", head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", 1, nil},
		{"rejected audio section", head + "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", 0, ErrNoAudio},
		{"inactive", head + audio("inactive", "opus/48000/2", ""), 0, ErrNoAudio},
		{"G722", head + audio("sendonly", "G722/8000", ""), 0, ErrCodec},
		{"two", head + audio("sendonly", "opus/48000/2", "") + audio("sendonly", "opus/48000/2", ""), 0, ErrTwoAudio},
		{"no v=0", "o=- 1 2 IN IP4 127.0.0.1\r\n", 0, ErrBadOffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := checkOffer(tt.sdp)
			if !errors.Is(err, tt.err) || (err == nil && a.channels != tt.channels) {
				t.Fatalf("got %+v, %v; want %d channels, %v", a, err, tt.channels, tt.err)
			}
		})
	}
}
