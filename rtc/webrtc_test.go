package rtc

import (
	"cmp"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/loopback"
	"github.com/onairfm/onair/internal/testutil"
)

// clientOpts shapes a loopback-only pion test client.
type clientOpts struct {
	pt       uint8 // Opus's payload type; 0 means 111 (Chromium's)
	withData bool  // a data channel too, as some pages make
	tcpOnly  bool  // ICE over TCP only, as a browser whose UDP is blocked
	plug     *plug // the client's UDP socket, for a test that unplugs it
}

// newClient is a loopback-only pion client with a recvonly audio offer
// set, its candidates gathered; it closes at the end of the test.
func newClient(t *testing.T, o clientOpts) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	pt := cmp.Or(o.pt, 111)
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: webrtc.PayloadType(pt)}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	if o.tcpOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	if o.plug != nil {
		mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: o.plug})
		t.Cleanup(func() { mux.Close() })
		se.SetICEUDPMux(mux)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	if o.withData {
		if _, err := pc.CreateDataChannel("chat", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := setOffer(pc, nil); err != nil {
		t.Fatal(err)
	}
	return pc
}

// setOffer makes an offer, sets it and waits for its candidates, as a
// browser without trickle would.
func setOffer(pc *webrtc.PeerConnection, opts *webrtc.OfferOptions) error {
	offer, err := pc.CreateOffer(opts)
	if err != nil {
		return err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	<-done
	return nil
}

// connect answers the client's offer with a new listener of station "s",
// closed at the end of the test, and gives the client the answer.
func connect(t *testing.T, srv *Server, pc *webrtc.PeerConnection, onClose func()) (Listener, string) {
	t.Helper()
	return connectWith(t, context.Background(), srv, pc, onClose)
}

// connectWith is connect with the request's context (its User-Agent).
func connectWith(t *testing.T, ctx context.Context, srv *Server, pc *webrtc.PeerConnection, onClose func()) (Listener, string) {
	t.Helper()
	answer, p := answerOf(t, ctx, srv, pc.LocalDescription().SDP, onClose)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("the client refused the answer: %v\n%s", err, answer)
	}
	return p, answer
}

// answerOf answers offer with a new listener of station "s", closed at
// the end of the test.
func answerOf(t *testing.T, ctx context.Context, srv *Server, offer string, onClose func()) (string, Listener) {
	t.Helper()
	p, err := srv.NewPeer(ctx, "s", nil, onClose)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	answer, err := p.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	return answer, p
}

// offerer is a loopback-only pion client that makes a recvonly audio offer.
func offerer(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	return newClient(t, clientOpts{})
}

// station is a Station that counts what its track tells it.
type station struct {
	bound, connected, gone atomic.Int64
}

func (s *station) PeerBound()     { s.bound.Add(1) }
func (s *station) PeerConnected() { s.connected.Add(1) }
func (s *station) PeerGone()      { s.gone.Add(1) }

// listeners is how many peers the station counts as listening.
func (s *station) listeners() int64 { return s.connected.Load() - s.gone.Load() }

// liveTrack makes the track of station "s" on srv; the track and then the
// server are closed at the end of the test.
func liveTrack(t *testing.T, srv *Server) (*Track, *station) {
	t.Helper()
	st := &station{}
	tr, err := srv.NewTrack("s", st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tr.Close()
		srv.Close()
	})
	return tr, st
}

// play writes a 20 ms Opus packet to tr on a ticker while any peer is
// bound, as a station's clock does, until the test ends (at most 30 s) or
// the returned function is called: a station's clock stops before its
// track closes.
func play(t *testing.T, tr *Track) (stopPlaying func()) {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan struct{})
	var once sync.Once
	stopPlaying = func() {
		once.Do(func() {
			close(stop)
			<-done
		})
	}
	t.Cleanup(stopPlaying)
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range 1500 {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if tr.Active() {
				tr.Write([]byte{0xfc, 0xff, 0xfe}, 20*time.Millisecond)
			}
		}
	}()
	return stopPlaying
}

func candidates(sdp string) []string {
	var out []string
	for _, line := range strings.Split(sdp, "\n") {
		if strings.HasPrefix(line, "a=candidate:") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func TestWebRTCOnePortForAllPeersAndAudioFlows(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		port := freeUDPPort(t)
		srv := &Server{PionPeers: pion, LoopbackOnly: true, UDPPort: port}
		st := &station{}
		tr, err := srv.NewTrack("s", st)
		if err != nil {
			t.Fatal(err)
		}
		stopPlaying := play(t, tr)
		defer func() {
			// The order of a server's shutdown: the clock, peers, then the port.
			stopPlaying()
			tr.Close()
			if err := srv.Close(); err != nil {
				t.Errorf("closing the shared port after peers used it: %v", err)
			}
			if n := st.listeners(); n != 0 {
				t.Errorf("%d peers still counted after the track closed", n)
			}
			if tr.Active() {
				t.Error("the track is active with every peer closed")
			}
		}()
		var got received
		for i := range 2 {
			client := offerer(t)
			got.attach(client)
			_, answer := connect(t, srv, client, nil)
			cands := candidates(answer)
			if len(cands) == 0 {
				t.Fatalf("peer %d: no candidate in the answer", i)
			}
			for _, c := range cands {
				if !strings.Contains(c, " 127.0.0.1 "+strconv.Itoa(port)+" ") {
					t.Fatalf("peer %d: candidate %q is not 127.0.0.1:%d", i, c, port)
				}
			}
		}
		testutil.Eventually(t, 10*time.Second, "audio to both peers on the one port", func() bool {
			return got.n.Load() > 100 && st.listeners() == 2
		})
		if n := st.bound.Load(); n != 2 {
			t.Fatalf("the station was told of %d bound peers, want 2", n)
		}
	})
}

func TestWebRTCAdvertisesPublicIPs(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		// 203.0.113.0/24 is for documentation: no traffic goes there, the
		// client filters every non-loopback candidate and the test never
		// connects.
		srv := &Server{PionPeers: pion, LoopbackOnly: true, PublicIPs: []string{"203.0.113.7"}}
		liveTrack(t, srv)
		answer, _ := answerOf(t, context.Background(), srv, offerer(t).LocalDescription().SDP, nil)
		cands := candidates(answer)
		if len(cands) == 0 {
			t.Fatal("no candidates")
		}
		for _, c := range cands {
			if !strings.Contains(c, " 203.0.113.7 ") {
				t.Fatalf("candidate %q does not advertise the public IP", c)
			}
		}
	})
}

func TestCloseClosesPeers(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		srv := &Server{PionPeers: pion, LoopbackOnly: true}
		tr, st := liveTrack(t, srv)
		closed := make(chan struct{})
		p, err := srv.NewPeer(context.Background(), "s", nil, func() { close(closed) })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Answer(offerer(t).LocalDescription().SDP); err != nil {
			t.Fatal(err)
		}
		tr.Close()
		select {
		case <-closed:
		default:
			t.Fatal("Close returned before closing its peer")
		}
		if tr.Active() || st.listeners() != 0 {
			t.Fatalf("after Close: active %v, %d listeners", tr.Active(), st.listeners())
		}
		if _, err := srv.NewPeer(context.Background(), "s", nil, nil); !errors.Is(err, ErrNotLive) {
			t.Fatalf("a peer for a stopped station: %v", err)
		}
		tr.Close() // again: nothing more to do
	})
}

func TestWebRTCBadInput(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		srv := &Server{PionPeers: pion, LoopbackOnly: true}
		liveTrack(t, srv)
		p, err := srv.NewPeer(context.Background(), "s", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.Answer("v=0 garbage"); onair.ErrorCode(err) != onair.EInvalid {
			t.Fatalf("garbage offer: %v", err)
		}
		if err := p.AddCandidate(onair.ICECandidate{Candidate: "candidate:nonsense"}); err == nil {
			t.Fatal("a nonsense candidate was accepted")
		}
		if err := p.AddCandidate(onair.ICECandidate{}); err != nil {
			t.Fatalf("end-of-candidates: %v", err)
		}
		bogus := &Server{Interceptors: []string{"bogus"}}
		if _, err := bogus.NewTrack("x", nil); err == nil {
			t.Fatal("unknown interceptor accepted")
		}
		if _, err := bogus.NewPeerConnection(); err == nil {
			t.Fatal("a peer connection from a server that cannot be set up")
		}
	})
}

func TestStationTrackNeverBlocksTheClock(t *testing.T) {
	// A shard whose writer is stuck: no goroutine drains its queue.
	stuck := &shard{queue: make(chan []*rtp.Packet, 2)}
	stuck.peers.Store(1)
	idle := &shard{queue: make(chan []*rtp.Packet)} // no peers: never queued to
	tr := &Track{
		packetizer: rtp.NewPacketizer(rtpMTU, 111, 0, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000),
		shards:     []*shard{stuck, idle},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			tr.Write([]byte{0xfc, 1, 2, 3}, 20*time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("writing blocked on a stuck shard")
	}
	if got := tr.dropped.Load(); got != 3 {
		t.Fatalf("dropped %d packets for the stuck shard, want 3", got)
	}
	// Every shard gets the same packets: one sequence for all listeners.
	first, second := <-stuck.queue, <-stuck.queue
	if second[0].SequenceNumber != first[0].SequenceNumber+1 || second[0].Timestamp != first[0].Timestamp+960 {
		t.Fatalf("sequence %d→%d, timestamp %d→%d", first[0].SequenceNumber, second[0].SequenceNumber, first[0].Timestamp, second[0].Timestamp)
	}
}

func TestPeersSpreadOverShards(t *testing.T) {
	tr := &Track{peers: map[member]*shard{}}
	for range 3 {
		tr.shards = append(tr.shards, &shard{})
	}
	for range 9 {
		tr.add(&Peer{}, tr.pick())
	}
	for i, sh := range tr.shards {
		if n := sh.peers.Load(); n != 3 {
			t.Fatalf("shard %d has %d peers, want 3", i, n)
		}
	}
	for p := range tr.peers {
		tr.remove(p)
	}
	if tr.Active() {
		t.Fatal("active with no peers")
	}
}

func TestNewPeerFindsTheNewestOpenTrack(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	defer srv.Close()
	if _, err := srv.NewPeer(context.Background(), "s", nil, nil); onair.ErrorCode(err) != onair.ENotFound {
		t.Fatalf("a peer for a station with no track: %v", err)
	}
	// A station that goes live again before its last run's track closed.
	old, err := srv.NewTrack("s", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	cur, err := srv.NewTrack("s", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	for _, tc := range []struct {
		name  string
		close *Track // closed before the peer is made
		want  *Track // nil: ErrNotLive
	}{
		{"both open", nil, cur},
		{"newest closed", cur, old},
		{"both closed", old, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.close != nil {
				tc.close.Close()
			}
			p, err := srv.NewPeer(context.Background(), "s", nil, nil)
			if tc.want == nil {
				if !errors.Is(err, ErrNotLive) {
					t.Fatalf("got %v, want ErrNotLive", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if trackOf(p) != tc.want || !tc.want.Active() {
				t.Fatal("the peer is not bound to the newest open track")
			}
		})
	}
	if n := len(srv.tracks); n != 0 {
		t.Fatalf("%d stations still have tracks after every track closed", n)
	}
}

func TestNewPeerHonoursItsContext(t *testing.T) {
	srv := &Server{LoopbackOnly: true}
	liveTrack(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := srv.NewPeer(ctx, "s", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("a peer for a cancelled request: %v", err)
	}
}
