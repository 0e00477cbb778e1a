package rtc

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/pion/stun/v4"
)

// chromiumOffer is the shape of a recvonly audio offer from Chromium, with
// a data channel as some pages add.
const chromiumOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:Xr2u\r\na=ice-pwd:3yV0gI3nN4fiHqWmJ0Y1d8Wj\r\na=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 2D:1C:6A:9E:0B:5F:3A:51:66:2B:45:0A:7E:3F:9C:11:F2:73:0D:8B:A4:5E:6F:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n" +
	"a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Xr2u\r\na=ice-pwd:3yV0gI3nN4fiHqWmJ0Y1d8Wj\r\n" +
	"a=fingerprint:sha-256 2D:1C:6A:9E:0B:5F:3A:51:66:2B:45:0A:7E:3F:9C:11:F2:73:0D:8B:A4:5E:6F:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\na=mid:1\r\na=sctp-port:5000\r\n"

// FuzzLiteOffer: any offer is refused with an error or answered with an
// answer that parses, with one m-section per offered one, in order.
func FuzzLiteOffer(f *testing.F) {
	f.Add(chromiumOffer)
	f.Add(strings.ReplaceAll(chromiumOffer, "111", "109"))
	f.Add("v=0\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		o, err := parseLiteOffer(offer)
		if err != nil {
			return
		}
		answer := o.answer(liteAnswer{ufrag: "abcd", pwd: "0123456789abcdef012345", fingerprint: "AA:BB", ssrc: 1, stream: "onair-s",
			candidates: []string{"1 1 udp 2130706431 127.0.0.1 5000 typ host"}})
		var sd sdp.SessionDescription
		if err := sd.UnmarshalString(answer); err != nil {
			t.Fatalf("the answer does not parse: %v\n%s", err, answer)
		}
		if len(sd.MediaDescriptions) != len(o.sections) {
			t.Fatalf("%d m-sections answered for %d offered", len(sd.MediaDescriptions), len(o.sections))
		}
		if sd.MediaDescriptions[o.audio].MediaName.Port.Value == 0 {
			t.Fatal("the audio section is rejected")
		}
	})
}

// TestLiteOfferFromChromium: the fuzz seed is an offer the server answers.
func TestLiteOfferFromChromium(t *testing.T) {
	o, err := parseLiteOffer(chromiumOffer)
	if err != nil {
		t.Fatal(err)
	}
	if o.pt != 111 || o.audio != 0 || len(o.sections) != 2 || !o.bundle || o.ufrag != "Xr2u" || len(o.fingerprints) != 1 {
		t.Fatalf("read %+v", o)
	}
}

// FuzzLiteDatagram: whatever reaches a lane's socket, the lite table
// takes it or hands it on without failing, and only a check with the
// listener's credentials binds an address.
func FuzzLiteDatagram(f *testing.F) {
	creds := iceCreds{ufrag: "abcd", pwd: "0123456789abcdef012345"}
	good := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername("abcd:them"),
		stun.NewShortTermIntegrity(creds.pwd), stun.Fingerprint)
	f.Add(good.Raw, true)
	f.Add([]byte{22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, true)
	f.Add([]byte{0x80, 0xc9, 0, 1}, false)
	// A closed socket: an answer leaves nowhere.
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	c.Close()
	conn := newBatchConn(c)
	f.Fuzz(func(t *testing.T, b []byte, bound bool) {
		l := newLiteTable(true)
		p := &litePeer{queue: make(chan []byte, dtlsQueue), detached: make(chan struct{}), done: make(chan struct{})}
		p.creds.Store(&creds)
		l.add(p, creds.ufrag)
		from := netip.MustParseAddrPort("127.0.0.1:5000")
		if bound {
			l.bind(p, from, true)
		}
		l.handle(conn, b, from)
		if !bound && p.route.Load() != nil {
			m := &stun.Message{Raw: b}
			if m.Decode() != nil || stun.NewShortTermIntegrity(creds.pwd).Check(m) != nil {
				t.Fatal("a datagram that is not a valid check bound an address")
			}
		}
	})
}
