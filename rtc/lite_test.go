package rtc

import (
	"context"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

// transports runs f once per listener transport: lite (the default) and
// pion PeerConnections.
func transports(t *testing.T, f func(t *testing.T, pion bool)) {
	for _, pion := range []bool{false, true} {
		t.Run(map[bool]string{false: "lite", true: "pion"}[pion], func(t *testing.T) { f(t, pion) })
	}
}

// counter reads one of srv's counters as /metrics would show it.
func counter(t *testing.T, srv *Server, name, label string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(srv); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return 0
}

// trackOf is the track a listener of either transport is bound to.
func trackOf(l Listener) *Track {
	switch p := l.(type) {
	case *Peer:
		return p.t
	case *litePeer:
		return p.t
	}
	return nil
}

// plug is a client's UDP socket that can be unplugged: from then on it
// sends nothing, as a browser whose network went away.
type plug struct {
	net.PacketConn
	off atomic.Bool
}

func (p *plug) WriteTo(b []byte, a net.Addr) (int, error) {
	if p.off.Load() {
		return len(b), nil
	}
	return p.PacketConn.WriteTo(b, a)
}

// liteClient is a client with Opus as payload type pt, a data channel
// too when withData, and its socket behind a plug.
func liteClient(t *testing.T, pt uint8, withData bool) (*webrtc.PeerConnection, *plug) {
	t.Helper()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl := &plug{PacketConn: udp}
	return newClient(t, clientOpts{pt: pt, withData: withData, plug: pl}), pl
}

// received counts the RTP packets a client gets and the breaks in their
// sequence numbers, and keeps the last packet.
type received struct {
	n    atomic.Int64
	gaps atomic.Int64
	last atomic.Pointer[rtp.Packet]
}

// attach reads every track pc receives until it ends. Attached to several
// clients, r adds their packets up; gaps are counted within each track.
func (r *received) attach(pc *webrtc.PeerConnection) {
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var prev uint16
		for k := 0; ; k++ {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if k > 0 && p.SequenceNumber != prev+1 {
				r.gaps.Add(1)
			}
			prev = p.SequenceNumber
			r.last.Store(p)
			r.n.Add(1)
		}
	})
}

func TestLiteAnswerAndAudio(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pt       uint8
		withData bool
	}{
		{"chromium's numbering", 111, false},
		{"firefox's numbering", 109, false},
		{"with a data channel", 111, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &Server{LoopbackOnly: true}
			tr, st := liveTrack(t, srv)
			play(t, tr)
			pc, _ := liteClient(t, tc.pt, tc.withData)
			var got received
			got.attach(pc)
			_, answer := connect(t, srv, pc, nil)
			for _, want := range []string{"a=ice-lite", "a=setup:passive", "a=fingerprint:sha-256 " + srv.fingerprint, "a=sendonly", "a=end-of-candidates"} {
				if !strings.Contains(answer, want) {
					t.Errorf("answer without %q:\n%s", want, answer)
				}
			}
			if tc.withData {
				if !regexp.MustCompile(`(?m)^m=application 0 `).MatchString(answer) || strings.Contains(answer, "BUNDLE 0 1") {
					t.Errorf("the data channel's section is not rejected:\n%s", answer)
				}
			}
			testutil.Eventually(t, 15*time.Second, "20 packets", func() bool { return got.n.Load() >= 20 })
			p := got.last.Load()
			if p.PayloadType != tc.pt || p.SSRC != tr.ssrc {
				t.Errorf("payload type %d, ssrc %d; want %d, %d", p.PayloadType, p.SSRC, tc.pt, tr.ssrc)
			}
			if n := st.listeners(); n != 1 {
				t.Errorf("%d listeners counted, want 1", n)
			}
			if n := counter(t, srv, "onair_webrtc_listeners_total", "connected"); n != 1 {
				t.Errorf("onair_webrtc_listeners_total{result=connected} %v, want 1", n)
			}
			for _, reason := range []string{"behind", "unsealed", "refused"} {
				if n := counter(t, srv, "onair_webrtc_packets_lost_total", reason); n != 0 {
					t.Errorf("%v packets lost (%s)", n, reason)
				}
			}
		})
	}
}

// TestLiteListenersHearTheSamePackets: one sequence and timeline for all.
func TestLiteListenersHearTheSamePackets(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	tr, _ := liveTrack(t, srv)
	play(t, tr)
	var got [3]received
	for i := range got {
		pc, _ := liteClient(t, 111, false)
		got[i].attach(pc)
		connect(t, srv, pc, nil)
	}
	testutil.Eventually(t, 15*time.Second, "every client hearing", func() bool {
		for i := range got {
			if got[i].n.Load() < 10 {
				return false
			}
		}
		return true
	})
	// Each packet's timestamp follows from its sequence number on one
	// line for all (20 ms = 960 ticks).
	ref := got[0].last.Load()
	for i := range got {
		p := got[i].last.Load()
		if uint32(p.SequenceNumber-ref.SequenceNumber)*960 != p.Timestamp-ref.Timestamp {
			t.Errorf("client %d: sequence %d at %d, client 0: %d at %d", i, p.SequenceNumber, p.Timestamp, ref.SequenceNumber, ref.Timestamp)
		}
	}
}

func TestLiteRefusesACertificateThatIsNotTheOffers(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	tr, st := liveTrack(t, srv)
	play(t, tr)
	pc, _ := liteClient(t, 111, false)
	p, err := srv.NewPeer(context.Background(), "s", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	p.(*litePeer).onClose = func() { close(closed) }
	// Another certificate's fingerprint in the offer.
	offer := regexp.MustCompile(`(a=fingerprint:sha-256 )[0-9A-Fa-f]{2}`).ReplaceAllString(pc.LocalDescription().SDP, "${1}00")
	if offer == pc.LocalDescription().SDP {
		offer = regexp.MustCompile(`(a=fingerprint:sha-256 )[0-9A-Fa-f]{2}`).ReplaceAllString(offer, "${1}01")
	}
	answer, err := p.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the listener with a foreign certificate was not closed")
	}
	if st.connected.Load() != 0 {
		t.Fatal("a listener whose certificate failed was counted")
	}
}

func TestLiteBadOffers(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	liveTrack(t, srv)
	pc, _ := liteClient(t, 111, false)
	good := pc.LocalDescription().SDP
	for _, tc := range []struct{ name, offer string }{
		{"not sdp", "hello"},
		{"no audio", strings.ReplaceAll(good, "m=audio", "m=video")},
		{"no opus", strings.ReplaceAll(good, "opus/48000/2", "PCMU/8000")},
		{"send only", strings.ReplaceAll(good, "a=recvonly", "a=sendonly")},
		{"no fingerprint", regexp.MustCompile(`(?m)^a=fingerprint:.*\r?\n`).ReplaceAllString(good, "")},
		{"no ice credentials", regexp.MustCompile(`(?m)^a=ice-(ufrag|pwd):.*\r?\n`).ReplaceAllString(good, "")},
		{"server as dtls client", strings.ReplaceAll(good, "a=setup:actpass", "a=setup:passive")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := srv.NewPeer(context.Background(), "s", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if _, err := p.Answer(tc.offer); onair.ErrorCode(err) != onair.EInvalid {
				t.Fatalf("got %v, want an EInvalid error", err)
			}
		})
	}
}

func TestLiteListenerThatLeaves(t *testing.T) {
	for _, tc := range []struct {
		name    string
		leave   func(pc *webrtc.PeerConnection, pl *plug)
		silence time.Duration
	}{
		// pion, as browsers, sends a DTLS close_notify alert: the server
		// ends the listener on it, long before silence would.
		{"closes its connection", func(pc *webrtc.PeerConnection, _ *plug) { pc.Close() }, time.Hour},
		// Nothing comes any more: the network went away.
		{"goes silent", func(_ *webrtc.PeerConnection, pl *plug) { pl.off.Store(true) }, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &Server{LoopbackOnly: true}
			srv.silence, srv.connectWithin, srv.sweepEvery = tc.silence, 5*time.Second, 200*time.Millisecond
			tr, st := liveTrack(t, srv)
			play(t, tr)
			pc, pl := liteClient(t, 111, false)
			var got received
			got.attach(pc)
			closed := make(chan struct{})
			connect(t, srv, pc, func() { close(closed) })
			testutil.Eventually(t, 15*time.Second, "the listener hearing and counted", func() bool { return got.n.Load() >= 5 && st.listeners() == 1 })
			tc.leave(pc, pl)
			select {
			case <-closed:
			case <-time.After(30 * time.Second):
				t.Fatal("the server kept a listener that left")
			}
			if n := st.listeners(); n != 0 || tr.Active() {
				t.Fatalf("%d listeners still counted, track active %v", n, tr.Active())
			}
		})
	}
}

func TestLiteListenerThatNeverConnects(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	srv.silence, srv.connectWithin, srv.sweepEvery = 2*time.Second, time.Second, 100*time.Millisecond
	tr, st := liveTrack(t, srv)
	pc, _ := liteClient(t, 111, false)
	p, err := srv.NewPeer(context.Background(), "s", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	p.(*litePeer).onClose = func() { close(closed) }
	answer, err := p.Answer(pc.LocalDescription().SDP)
	if err != nil {
		t.Fatal(err)
	}
	// A check answered by hand, then nothing: ICE without DTLS.
	ufrag := regexp.MustCompile(`a=ice-ufrag:(\S+)`).FindStringSubmatch(answer)[1]
	pwd := regexp.MustCompile(`a=ice-pwd:(\S+)`).FindStringSubmatch(answer)[1]
	port := regexp.MustCompile(`127\.0\.0\.1 (\d+) typ host`).FindStringSubmatch(answer)[1]
	c, err := net.Dial("udp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername(ufrag+":them"),
		stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	if _, err := c.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to a check: %v", err)
	}
	resp := &stun.Message{Raw: buf[:n]}
	var xor stun.XORMappedAddress
	if err := resp.Decode(); err != nil || resp.Type != stun.BindingSuccess || xor.GetFrom(resp) != nil ||
		stun.NewShortTermIntegrity(pwd).Check(resp) != nil {
		t.Fatalf("bad answer to a check: %v %v", err, resp)
	}
	if local := c.LocalAddr().(*net.UDPAddr); xor.Port != local.Port {
		t.Errorf("mapped address %v, want %v", xor, local)
	}
	// A check with the wrong password is not answered.
	bad := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername(ufrag+":them"),
		stun.NewShortTermIntegrity("wrong password"), stun.Fingerprint)
	_, _ = c.Write(bad.Raw)
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Read(buf); err == nil {
		t.Error("a check with the wrong password was answered")
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("a listener that never connected was kept")
	}
	if st.connected.Load() != 0 || tr.Active() {
		t.Fatal("a listener that never connected was counted or kept bound")
	}
	if n := counter(t, srv, "onair_webrtc_listeners_total", "never_connected"); n != 1 {
		t.Fatalf("onair_webrtc_listeners_total{result=never_connected} %v, want 1", n)
	}
}

func TestLiteICERestart(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	tr, st := liveTrack(t, srv)
	play(t, tr)
	pc, _ := liteClient(t, 111, false)
	var got received
	got.attach(pc)
	var restarted, reconnected atomic.Bool
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		if s == webrtc.ICEConnectionStateConnected && restarted.Load() {
			reconnected.Store(true)
		}
	})
	p, first := connect(t, srv, pc, nil)
	testutil.Eventually(t, 15*time.Second, "audio", func() bool { return got.n.Load() >= 5 })
	restarted.Store(true)
	if err := setOffer(pc, &webrtc.OfferOptions{ICERestart: true}); err != nil {
		t.Fatal(err)
	}
	answer, err := p.Answer(pc.LocalDescription().SDP)
	if err != nil {
		t.Fatal(err)
	}
	ufrag := regexp.MustCompile(`a=ice-ufrag:(\S+)`)
	if ufrag.FindString(answer) == ufrag.FindString(first) {
		t.Fatal("an ICE restart kept the server's credentials")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	// The client's checks with the new credentials pass.
	testutil.Eventually(t, 15*time.Second, "ICE connected again", reconnected.Load)
	before := got.n.Load()
	testutil.Eventually(t, 15*time.Second, "audio after the restart", func() bool { return got.n.Load() >= before+25 })
	if n := st.listeners(); n != 1 {
		t.Fatalf("%d listeners after a restart, want 1", n)
	}
}

func TestLiteIgnoresOtherAddressesWhenLoopbackOnly(t *testing.T) {
	// A closed socket: if anything were sent, nothing would leave.
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	conn := newBatchConn(c)
	l := newLiteTable(true)
	p := &litePeer{}
	creds := iceCreds{ufrag: "abcd", pwd: "0123456789012345678901"}
	p.creds.Store(&creds)
	l.add(p, creds.ufrag)
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername("abcd:them"), stun.NewShortTermIntegrity(creds.pwd), stun.Fingerprint)
	from := netip.MustParseAddrPort("192.0.2.1:5000")
	if !l.handle(conn, req.Raw, from) {
		t.Fatal("a check from outside loopback went on to pion")
	}
	if p.route.Load() != nil || len(l.byAddr) != 0 || conn.failed.Load() != 0 {
		t.Fatal("a check from outside loopback was taken")
	}
}

// TestLiteLetsDTLSGoOnceTheBrowserHasItsKeys: the browser's first SRTCP
// packet ends DTLS well before dtlsLinger.
func TestLiteLetsDTLSGoOnceTheBrowserHasItsKeys(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	tr, _ := liveTrack(t, srv)
	play(t, tr)
	pc, _ := liteClient(t, 111, false)
	p, _ := connect(t, srv, pc, nil)
	lp := p.(*litePeer)
	testutil.Eventually(t, dtlsLinger*3/4, "DTLS let go", func() bool {
		select {
		case <-lp.detached:
			return true
		default:
			return false
		}
	})
	if !lp.aud.isCounted() {
		t.Fatal("the listener is not counted")
	}
}

// TestLiteAddressGoesToTheNewerListener: a browser that reuses a port for
// a new listener before the server gave the old one up is the new one's.
func TestLiteAddressGoesToTheNewerListener(t *testing.T) {
	l := newLiteTable(true)
	old, cur := &litePeer{}, &litePeer{}
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	l.bind(old, from, true)
	l.bind(cur, from, true)
	if l.byAddr[from] != cur {
		t.Fatal("the address stayed with the old listener")
	}
	if r := cur.route.Load(); r == nil || r.udp != from {
		t.Fatal("the new listener's media does not go to the address")
	}
	if r := old.route.Load(); r == nil || r.udp.IsValid() {
		t.Fatal("the old listener's media still goes to the address")
	}
	l.remove(old)
	if l.byAddr[from] != cur {
		t.Fatal("the old listener's close took the address from the new one")
	}
}
