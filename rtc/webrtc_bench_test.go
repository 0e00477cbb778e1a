package rtc

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/thesyncim/gopus"

	"github.com/onairfm/onair/internal/loopback"
)

// BenchmarkWebRTCWrite measures what one Opus packet costs the station per
// WebRTC listener: a station's Track with N loopback pion peers bound to it,
// negotiated with the server's own pion API (its codec, interceptors and
// ICE settings), and one op is one 20 ms packet written to the track as
// the station clock writes it. pion packetizes it once and, for each peer,
// runs the interceptors, SRTP-encrypts and sends one UDP datagram, all on
// the writing goroutine, so the wall time of the op is the sender's cost.
// The receivers (plain pion peers in this process, reading and counting)
// run on the other core and are not in it.
//
//	ns/packet/listener  ns/op divided by N
//	cpu-us/listener-s   the same per listener-second of audio (50, 25 or
//	                    16.7 packets a second for 20, 40 or 60 ms frames)
//	listeners/core      how many listeners one core could feed at that
//	                    packet rate and this cost, counting the packet
//	                    writes only (RTCP, ICE consent checks and the
//	                    receivers are not included; the load tool
//	                    measures the whole server)
//	delivered-%         packets the receivers read, as a check (a burst
//	                    faster than real time may overflow their buffers)
func BenchmarkWebRTCWrite(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) { benchWebRTCWrite(b, n, rtcVariant{}) })
	}
	// What each choice costs per listener, at 100 peers: pion
	// PeerConnections instead of lite listeners, with their interceptors,
	// one UDP port for all peers, pion's port per peer (no batching), and
	// longer Opus frames (fewer packets).
	for _, v := range []rtcVariant{
		{name: "transport=pion", pion: true},
		{name: "transport=pion/interceptors=none", pion: true, interceptors: []string{}},
		{name: "transport=pion/interceptors=sr+nack", pion: true, interceptors: []string{"sr", "nack"}},
		{name: "udp-mux", mux: true},
		{name: "port-per-peer", portPerPeer: true},
		{name: "frame=40ms", frameMS: 40},
		{name: "frame=60ms", frameMS: 60},
	} {
		b.Run("peers=100/"+v.name, func(b *testing.B) { benchWebRTCWrite(b, 100, v) })
	}
}

// rtcVariant is a server configuration to measure; the zero value is the
// default (lite listeners, a batching UDP port per core, 20 ms frames).
type rtcVariant struct {
	name         string
	pion         bool // pion PeerConnections, with sender reports unless interceptors says otherwise
	interceptors []string
	mux          bool
	portPerPeer  bool
	frameMS      int
}

func benchWebRTCWrite(b *testing.B, n int, v rtcVariant) {
	w := &Server{LoopbackOnly: true, Interceptors: v.interceptors, PortPerPeer: v.portPerPeer, PionPeers: v.pion}
	if v.mux {
		w.UDPPort = benchFreeUDPPort(b)
	}
	defer w.Close()
	frameMS := cmp.Or(v.frameMS, 20)
	frame := time.Duration(frameMS) * time.Millisecond
	t, err := w.NewTrack("bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	var received atomic.Int64
	pairs := make([]*benchPair, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range pairs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := newBenchPair(w, t, &received)
			if err != nil {
				errs <- err
				return
			}
			pairs[i] = p
		})
	}
	wg.Wait()
	defer func() {
		for _, p := range pairs {
			if p != nil {
				p.close()
			}
		}
	}()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	for _, p := range pairs {
		p.waitConnected(b)
	}

	pkt, err := benchOpusPacket(frameMS)
	if err != nil {
		b.Fatal(err)
	}

	// The first packets open the receivers' tracks and warm every peer's
	// path up; they are not counted.
	// The shards' own goroutines stay idle: the benchmark does their work
	// on its goroutine, so the time measured is the fan-out's cost.
	send := func() {
		pkts := t.packetize(pkt, frame)
		for _, sh := range t.shards {
			if sh.peers.Load() > 0 {
				sh.send(pkts)
			}
		}
	}
	for range 5 {
		send()
	}
	for _, p := range pairs {
		p.waitTrack(b)
	}
	for range 50 {
		send()
	}
	// Let the warm-up packets arrive before counting from zero.
	for prev := int64(-1); received.Load() != prev; {
		prev = received.Load()
		time.Sleep(20 * time.Millisecond)
	}
	received.Store(0)
	b.ReportAllocs()
	for b.Loop() {
		send()
	}
	perListener := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n)
	perSecond := float64(time.Second / frame)
	b.ReportMetric(perListener, "ns/packet/listener")
	b.ReportMetric(perListener*perSecond/1000, "cpu-us/listener-s")
	b.ReportMetric(1e9/(perListener*perSecond), "listeners/core")
	// Give the receivers a moment to read what is in flight.
	want := int64(b.N) * int64(n)
	deadline := time.Now().Add(time.Second)
	for received.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportMetric(100*float64(received.Load())/float64(want), "delivered-%")
}

// benchPair is one server peer bound to the station track and the client
// that listens to it.
type benchPair struct {
	server, client *webrtc.PeerConnection
	lite           *litePeer // the server's side of a lite listener, instead of server
	connected      chan struct{}
	track          chan struct{}
	readers        sync.WaitGroup
}

var benchClientAPI = sync.OnceValues(func() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)), nil
})

// newBenchPair negotiates one listener the way a browser and the server do
// (recvonly offer, answer with the server's candidates) and binds it to t.
func newBenchPair(w *Server, t *Track, received *atomic.Int64) (*benchPair, error) {
	capi, err := benchClientAPI()
	if err != nil {
		return nil, err
	}
	p := &benchPair{connected: make(chan struct{}), track: make(chan struct{})}
	if p.client, err = capi.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return nil, err
	}
	fail := func(err error) (*benchPair, error) {
		p.close()
		return nil, err
	}
	if _, err := p.client.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return fail(err)
	}
	p.client.OnTrack(p.onTrack(received))
	if w.lite() {
		return p.negotiateLite(w)
	}
	sh := t.pick()
	if p.server, err = sh.lane.api.NewPeerConnection(w.config()); err != nil {
		return fail(err)
	}
	sender, err := p.server.AddTrack(sh.track)
	sh.peers.Add(1)
	if err != nil {
		return fail(err)
	}
	p.readers.Go(func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	})
	var once sync.Once
	p.server.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(p.connected) })
		}
	})
	if err := setOffer(p.client, nil); err != nil {
		return fail(err)
	}
	if err := p.server.SetRemoteDescription(*p.client.LocalDescription()); err != nil {
		return fail(err)
	}
	answer, err := p.server.CreateAnswer(nil)
	if err != nil {
		return fail(err)
	}
	gathered := webrtc.GatheringCompletePromise(p.server)
	if err := p.server.SetLocalDescription(answer); err != nil {
		return fail(err)
	}
	<-gathered
	if err := p.client.SetRemoteDescription(*p.server.LocalDescription()); err != nil {
		return fail(err)
	}
	return p, nil
}

// onTrack counts what the client receives.
func (p *benchPair) onTrack(received *atomic.Int64) func(*webrtc.TrackRemote, *webrtc.RTPReceiver) {
	var once sync.Once
	return func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.readers.Go(func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := tr.Read(buf); err != nil {
					return
				}
				received.Add(1)
				once.Do(func() { close(p.track) })
			}
		})
	}
}

// negotiateLite makes the server's side a lite listener, as NewPeer does.
func (p *benchPair) negotiateLite(w *Server) (*benchPair, error) {
	fail := func(err error) (*benchPair, error) {
		p.close()
		return nil, err
	}
	if err := setOffer(p.client, nil); err != nil {
		return fail(err)
	}
	l, err := w.NewPeer(context.Background(), "bench", nil, nil)
	if err != nil {
		return fail(err)
	}
	p.lite = l.(*litePeer)
	answer, err := p.lite.Answer(p.client.LocalDescription().SDP)
	if err != nil {
		return fail(err)
	}
	if err := p.client.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fail(err)
	}
	go func() {
		for !p.lite.aud.isCounted() {
			select {
			case <-p.lite.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		close(p.connected)
	}()
	return p, nil
}

func (p *benchPair) waitConnected(b *testing.B) {
	select {
	case <-p.connected:
	case <-time.After(20 * time.Second):
		b.Fatal("peer not connected within 20 s")
	}
}

func (p *benchPair) waitTrack(b *testing.B) {
	select {
	case <-p.track:
	case <-time.After(10 * time.Second):
		b.Fatal("no packet reached a receiver within 10 s")
	}
}

func (p *benchPair) close() {
	if p.client != nil {
		p.client.Close()
	}
	if p.server != nil {
		p.server.Close()
	}
	if p.lite != nil {
		p.lite.Close()
	}
	p.readers.Wait()
}

func benchFreeUDPPort(b *testing.B) int {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// benchOpusPacket encodes a packet of frameMS of a sawtooth, as the
// relay's encoder does at its default 96 kbit/s: a packet of a usual size.
func benchOpusPacket(frameMS int) ([]byte, error) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: 48000, Channels: 2, Application: gopus.ApplicationAudio})
	if err != nil {
		return nil, err
	}
	samples := 48 * frameMS
	if err := enc.SetBitrate(96000); err != nil {
		return nil, err
	}
	if err := enc.SetFrameSize(samples); err != nil {
		return nil, err
	}
	if err := enc.SetSignal(gopus.SignalMusic); err != nil {
		return nil, err
	}
	pcm := make([]float32, samples*2)
	for i := range pcm {
		pcm[i] = float32(i%96) / 96
	}
	out := make([]byte, 4000)
	n, err := enc.Encode(pcm, out)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}
