package relay

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair/internal/loopback"

	"github.com/onairfm/onair"
)

// offerer is a loopback-only pion client that makes a recvonly audio offer.
func offerer(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc
}

// rtcStation plays station "s" with WebRTC configured as rtc; the relay
// and then the WebRTC port are closed at the end of the test.
func rtcStation(t *testing.T, rtc *WebRTC) *Relay {
	t.Helper()
	dir, tracks := mediaDir(t, "tone440.mp3")
	r := &Relay{MediaDir: dir, WebRTC: rtc}
	t.Cleanup(func() {
		r.Close()
		rtc.Close()
	})
	if err := r.Start(StationInfo{Slug: "s"}, tracks, PlayOptions{Loop: true}); err != nil {
		t.Fatal(err)
	}
	return r
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
	port := freeUDPPort(t)
	rtc := &WebRTC{LoopbackOnly: true, UDPPort: port}
	dir, tracks := mediaDir(t, "tone440.mp3")
	r := &Relay{MediaDir: dir, WebRTC: rtc}
	defer func() {
		// The order of a server's shutdown: peers, then the port.
		if err := r.Close(); err != nil {
			t.Errorf("relay close: %v", err)
		}
		if err := rtc.Close(); err != nil {
			t.Errorf("closing the shared port after peers used it: %v", err)
		}
	}()
	if err := r.Start(StationInfo{Slug: "s"}, tracks, PlayOptions{Loop: true}); err != nil {
		t.Fatal(err)
	}
	var packets atomic.Int64
	for i := range 2 {
		client := offerer(t)
		client.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				packets.Add(1)
			}
		})
		p, err := r.NewPeer(context.Background(), "s", func(onair.ICECandidate) {}, nil)
		if err != nil {
			t.Fatal(err)
		}
		answer, err := p.Answer(client.LocalDescription().SDP)
		if err != nil {
			t.Fatal(err)
		}
		cands := candidates(answer)
		if len(cands) == 0 {
			t.Fatalf("peer %d: no candidate in the answer", i)
		}
		for _, c := range cands {
			if !strings.Contains(c, " 127.0.0.1 "+strconv.Itoa(port)+" ") {
				t.Fatalf("peer %d: candidate %q is not 127.0.0.1:%d", i, c, port)
			}
		}
		if err := client.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "audio to both peers on the one port", func() bool {
		return packets.Load() > 100 && r.Status("s").Listeners.WebRTC == 2
	})
}

func TestWebRTCAdvertisesPublicIPs(t *testing.T) {
	// 203.0.113.0/24 is for documentation: no traffic goes there, the
	// client filters every non-loopback candidate and the test never
	// connects.
	r := rtcStation(t, &WebRTC{LoopbackOnly: true, PublicIPs: []string{"203.0.113.7"}})
	p, err := r.NewPeer(context.Background(), "s", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	answer, err := p.Answer(offerer(t).LocalDescription().SDP)
	if err != nil {
		t.Fatal(err)
	}
	cands := candidates(answer)
	if len(cands) == 0 {
		t.Fatal("no candidates")
	}
	for _, c := range cands {
		if !strings.Contains(c, " 203.0.113.7 ") {
			t.Fatalf("candidate %q does not advertise the public IP", c)
		}
	}
}

func TestStopClosesPeers(t *testing.T) {
	r := rtcStation(t, &WebRTC{LoopbackOnly: true})
	closed := make(chan struct{})
	p, err := r.NewPeer(context.Background(), "s", nil, func() { close(closed) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Answer(offerer(t).LocalDescription().SDP); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop("s"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("stopping the station did not close its peer")
	}
	if _, err := r.NewPeer(context.Background(), "s", nil, nil); err == nil {
		t.Fatal("a peer for a stopped station")
	}
}

func TestWebRTCBadInput(t *testing.T) {
	r := rtcStation(t, &WebRTC{LoopbackOnly: true})
	p, err := r.NewPeer(context.Background(), "s", nil, nil)
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
	if _, err := (&WebRTC{Interceptors: []string{"bogus"}}).newStationTrack("x", nil); err == nil {
		t.Fatal("unknown interceptor accepted")
	}
}

func TestStationTrackNeverBlocksTheClock(t *testing.T) {
	// A shard whose writer is stuck: no goroutine drains its queue.
	stuck := &shard{queue: make(chan []*rtp.Packet, 2)}
	stuck.peers.Store(1)
	idle := &shard{queue: make(chan []*rtp.Packet)} // no peers: never queued to
	tr := &stationTrack{
		packetizer: rtp.NewPacketizer(rtpMTU, 111, 0, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000),
		shards:     []*shard{stuck, idle},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			tr.write([]byte{0xfc, 1, 2, 3}, 20*time.Millisecond)
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
	tr := &stationTrack{peers: map[*Peer]*shard{}}
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
	if tr.active() {
		t.Fatal("active with no peers")
	}
}
