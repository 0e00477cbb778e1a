package rtc

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/sdp/v3"

	"github.com/onairfm/onair"
)

// liteOffer is what the lite transport needs of a browser's offer: the
// browser's ICE credentials, the certificate fingerprints its DTLS client
// must match, and the m-sections, of which one audio section that takes
// Opus is answered.
type liteOffer struct {
	ufrag, pwd   string
	fingerprints []remoteFingerprint
	sections     []offerSection
	audio        int   // index in sections of the answered one
	pt           uint8 // the offer's payload type for Opus
	bundle       bool  // the offer groups its sections with BUNDLE
}

// offerSection is an offered m-line, kept so that the answer can reject
// it in the same place.
type offerSection struct {
	media, mid string
	protos     []string
	formats    []string
}

// remoteFingerprint is one a=fingerprint of the offer.
type remoteFingerprint struct {
	algo, value string
}

// parseLiteOffer reads an offer for the lite transport. Anything it
// cannot answer is an EInvalid error: no audio section that receives
// Opus, no ICE credentials or fingerprint, or a browser that insists on
// being the DTLS server.
func parseLiteOffer(offer string) (*liteOffer, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil, onair.Errorf(onair.EInvalid, "invalid offer: %v", err)
	}
	o := &liteOffer{audio: -1}
	sessionAttr := func(key string) string { v, _ := sd.Attribute(key); return v }
	if g := sessionAttr("group"); strings.HasPrefix(g, "BUNDLE") {
		o.bundle = true
	}
	for i, md := range sd.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		o.sections = append(o.sections, offerSection{media: md.MediaName.Media, mid: mid, protos: md.MediaName.Protos, formats: md.MediaName.Formats})
		if o.audio >= 0 || md.MediaName.Media != "audio" {
			continue
		}
		if _, ok := md.Attribute("sendonly"); ok {
			continue // the browser only sends here: nothing to listen to
		}
		if _, ok := md.Attribute("inactive"); ok {
			continue
		}
		pt, ok := opusPayloadType(md)
		if !ok {
			continue
		}
		attr := func(key string) string {
			if v, ok := md.Attribute(key); ok {
				return v
			}
			return sessionAttr(key)
		}
		o.audio, o.pt = i, pt
		o.ufrag, o.pwd = attr("ice-ufrag"), attr("ice-pwd")
		if setup := attr("setup"); setup == "passive" {
			return nil, onair.Errorf(onair.EInvalid, "invalid offer: a=setup:passive (the server is the DTLS server; offer actpass or active)")
		}
		for _, a := range append(append([]sdp.Attribute{}, md.Attributes...), sd.Attributes...) {
			if a.Key != "fingerprint" {
				continue
			}
			algo, value, ok := strings.Cut(a.Value, " ")
			if ok {
				o.fingerprints = append(o.fingerprints, remoteFingerprint{algo: strings.ToLower(algo), value: strings.TrimSpace(value)})
			}
		}
	}
	switch {
	case o.audio < 0:
		return nil, onair.Errorf(onair.EInvalid, "invalid offer: no audio section that can receive Opus")
	case o.ufrag == "" || o.pwd == "":
		return nil, onair.Errorf(onair.EInvalid, "invalid offer: no ICE credentials")
	case len(o.fingerprints) == 0:
		return nil, onair.Errorf(onair.EInvalid, "invalid offer: no DTLS fingerprint")
	}
	return o, nil
}

// opusPayloadType finds the payload type md maps to opus/48000/2.
func opusPayloadType(md *sdp.MediaDescription) (uint8, bool) {
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, codec, ok := strings.Cut(a.Value, " ")
		if !ok || !strings.EqualFold(codec, "opus/48000/2") {
			continue
		}
		n, err := strconv.ParseUint(pt, 10, 7)
		if err != nil {
			continue
		}
		return uint8(n), true
	}
	return 0, false
}

// matches reports whether cert is one the offer named.
func (o *liteOffer) matches(cert *x509.Certificate) bool {
	for _, f := range o.fingerprints {
		h, err := fingerprint.HashFromString(f.algo)
		if err != nil {
			continue
		}
		got, err := fingerprint.Fingerprint(cert, h)
		if err == nil && strings.EqualFold(got, f.value) {
			return true
		}
	}
	return false
}

// liteAnswer is what the server puts in an answer.
type liteAnswer struct {
	ufrag, pwd  string
	fingerprint string // sha-256, upper case, colon separated
	ssrc        uint32
	stream      string // the msid stream id: the station's
	candidates  []string
}

// answer writes the SDP answer to o: ICE-lite, the server DTLS-passive,
// one send-only Opus section, every other section rejected in place.
func (o *liteOffer) answer(a liteAnswer) string {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\r\n")
	}
	mid := o.sections[o.audio].mid
	line("v=0")
	line("o=onair %d 2 IN IP4 0.0.0.0", a.ssrc)
	line("s=-")
	line("t=0 0")
	if o.bundle && mid != "" {
		line("a=group:BUNDLE %s", mid)
	}
	line("a=ice-lite")
	line("a=msid-semantic: WMS %s", a.stream)
	for i, s := range o.sections {
		if i != o.audio {
			line("m=%s 0 %s %s", s.media, strings.Join(s.protos, "/"), strings.Join(s.formats, " "))
			line("c=IN IP4 0.0.0.0")
			if s.mid != "" {
				line("a=mid:%s", s.mid)
			}
			line("a=inactive")
			continue
		}
		line("m=audio 9 UDP/TLS/RTP/SAVPF %d", o.pt)
		line("c=IN IP4 0.0.0.0")
		line("a=rtcp:9 IN IP4 0.0.0.0")
		for _, c := range a.candidates {
			line("a=candidate:%s", c)
		}
		line("a=end-of-candidates")
		line("a=ice-ufrag:%s", a.ufrag)
		line("a=ice-pwd:%s", a.pwd)
		line("a=fingerprint:sha-256 %s", a.fingerprint)
		line("a=setup:passive")
		if mid != "" {
			line("a=mid:%s", mid)
		}
		line("a=sendonly")
		line("a=rtcp-mux")
		line("a=rtpmap:%d opus/48000/2", o.pt)
		line("a=fmtp:%d %s", o.pt, opusCodec.SDPFmtpLine)
		line("a=msid:%s audio", a.stream)
		line("a=ssrc:%d cname:onair", a.ssrc)
		line("a=ssrc:%d msid:%s audio", a.ssrc, a.stream)
	}
	return b.String()
}
