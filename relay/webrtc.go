package relay

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair/internal/loopback"
)

// WebRTC is the relay's WebRTC side: one pion API shared by every peer of
// every station. Fill the exported fields before the first station starts.
type WebRTC struct {
	// LoopbackOnly keeps ICE on 127.0.0.1: loopback interface and
	// candidates only, remote candidates filtered to loopback, mDNS off.
	LoopbackOnly bool
	// UDPPort, when not 0, serves every peer on this one UDP port.
	UDPPort int
	// PublicIPs are 1:1 NAT addresses advertised instead of local ones.
	PublicIPs []string
	// ICEServers are STUN/TURN URLs used by the server's peers.
	ICEServers []string
	// Interceptors names the RTP/RTCP interceptors each peer runs:
	// "sr" (RTCP sender reports), "nack" (retransmit lost packets).
	// nil means {"sr"}: an audio broadcast needs little else.
	Interceptors []string
	Logger       *slog.Logger

	once sync.Once
	err  error
	api  *webrtc.API
	mux  ice.UDPMux
	conn net.PacketConn
}

// opusCodec is the only codec offered: Opus, 48 kHz, stereo.
var opusCodec = webrtc.RTPCodecCapability{
	MimeType:    webrtc.MimeTypeOpus,
	ClockRate:   48000,
	Channels:    2,
	SDPFmtpLine: "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1",
}

// setup builds the shared pion API on first use.
func (w *WebRTC) setup() error {
	w.once.Do(func() { w.err = w.build() })
	return w.err
}

func (w *WebRTC) build() error {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("relay: register opus: %w", err)
	}
	reg := &interceptor.Registry{}
	names := w.Interceptors
	if names == nil {
		names = []string{"sr"}
	}
	for _, name := range names {
		switch name {
		case "sr":
			f, err := report.NewSenderInterceptor()
			if err != nil {
				return fmt.Errorf("relay: sender reports: %w", err)
			}
			reg.Add(f)
		case "nack":
			f, err := nack.NewResponderInterceptor()
			if err != nil {
				return fmt.Errorf("relay: nack responder: %w", err)
			}
			reg.Add(f)
			m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeAudio)
		default:
			return fmt.Errorf("relay: unknown interceptor %q", name)
		}
	}

	se := webrtc.SettingEngine{LoggerFactory: pionLogs{w.logger()}}
	// A server has no use for mDNS, and pion's default multicasts queries.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// A listener that vanished without a goodbye is given up after 15 s
	// (pion's default is 25 s): its count and its memory go sooner, and a
	// browser that only lost the network restarts ICE well before.
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	if w.LoopbackOnly {
		loopback.Configure(&se)
	}
	if len(w.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        w.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return fmt.Errorf("relay: public ips: %w", err)
		}
	}
	if w.UDPPort != 0 {
		host := ""
		if w.LoopbackOnly {
			host = "127.0.0.1"
		}
		conn, err := net.ListenPacket("udp4", net.JoinHostPort(host, strconv.Itoa(w.UDPPort)))
		if err != nil {
			return fmt.Errorf("relay: webrtc udp port %d: %w", w.UDPPort, err)
		}
		w.conn = conn
		w.mux = webrtc.NewICEUDPMux(nil, conn)
		se.SetICEUDPMux(w.mux)
	}
	w.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return nil
}

// Close releases the shared UDP port. pion's mux owns the socket once it
// is made: closing the mux closes it.
func (w *WebRTC) Close() error {
	if w.mux != nil {
		return w.mux.Close()
	}
	if w.conn != nil {
		return w.conn.Close()
	}
	return nil
}

func (w *WebRTC) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (w *WebRTC) config() webrtc.Configuration {
	var cfg webrtc.Configuration
	if len(w.ICEServers) > 0 {
		cfg.ICEServers = []webrtc.ICEServer{{URLs: w.ICEServers}}
	}
	return cfg
}

// rtpMTU bounds an RTP packet's size, as pion's own sample track does; an
// Opus packet of 60 ms at 96 kbit/s is 720 bytes.
const rtpMTU = 1200

// stationTrack is a station's WebRTC output. Each Opus packet is
// packetized once, so every listener gets the same sequence numbers and
// timestamps, and handed to shards: a shard is a pion track holding its
// share of the station's peers, with a goroutine that writes the packets
// to them. The station clock only queues, so it never waits on the
// fan-out (writing a packet to a peer is a UDP send, ~5 us here), and the
// fan-out uses every core.
type stationTrack struct {
	packetizer rtp.Packetizer
	shards     []*shard
	bound      atomic.Int32 // peers bound: the Opus path runs while > 0
	dropped    atomic.Int64 // packets a shard was too far behind to take
	wake       chan<- struct{}

	mu       sync.Mutex
	peers    map[*Peer]*shard
	closed   bool
	wg       sync.WaitGroup // closes started by pion callbacks
	stopOnce sync.Once
}

// shard writes a station's packets to some of its peers.
type shard struct {
	track *webrtc.TrackLocalStaticRTP
	queue chan []*rtp.Packet
	peers atomic.Int32
	done  chan struct{}
}

// shardQueue is how many packets a shard may fall behind (1 s of 20 ms
// packets) before packets are dropped for its peers.
const shardQueue = 50

// newStationTrack makes a station's track; wake is nudged when a peer is
// bound, so the station starts encoding without waiting for its next tick.
func (w *WebRTC) newStationTrack(slug string, wake chan<- struct{}) (*stationTrack, error) {
	if err := w.setup(); err != nil {
		return nil, err
	}
	t := &stationTrack{
		packetizer: rtp.NewPacketizer(rtpMTU, 111, 0, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), opusCodec.ClockRate),
		peers:      map[*Peer]*shard{},
		wake:       wake,
	}
	for i := range max(1, runtime.GOMAXPROCS(0)) {
		track, err := webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "onair-"+slug)
		if err != nil {
			t.stopShards()
			return nil, fmt.Errorf("relay: new track %d: %w", i, err)
		}
		sh := &shard{track: track, queue: make(chan []*rtp.Packet, shardQueue), done: make(chan struct{})}
		t.shards = append(t.shards, sh)
		go sh.run()
	}
	return t, nil
}

func (sh *shard) run() {
	defer close(sh.done)
	for pkts := range sh.queue {
		sh.send(pkts)
	}
}

// send writes packets to every peer of the shard.
func (sh *shard) send(pkts []*rtp.Packet) {
	for _, p := range pkts {
		// pion copies the header per peer; a peer that went away is
		// pion's to skip.
		_ = sh.track.WriteRTP(p)
	}
}

// packetize turns one Opus packet of duration dur into RTP packets, on the
// station's one sequence and timestamp line. It copies pkt.
func (t *stationTrack) packetize(pkt []byte, dur time.Duration) []*rtp.Packet {
	samples := uint32(dur * time.Duration(opusCodec.ClockRate) / time.Second)
	return t.packetizer.Packetize(pkt, samples)
}

// write queues one Opus packet of duration dur for every shard that has
// peers.
func (t *stationTrack) write(pkt []byte, dur time.Duration) {
	pkts := t.packetize(pkt, dur)
	for _, sh := range t.shards {
		if sh.peers.Load() == 0 {
			continue
		}
		select {
		case sh.queue <- pkts:
		default:
			t.dropped.Add(1)
		}
	}
}

// pick returns the shard a new peer should be bound to: the least busy.
func (t *stationTrack) pick() *shard {
	best := t.shards[0]
	for _, sh := range t.shards[1:] {
		if sh.peers.Load() < best.peers.Load() {
			best = sh
		}
	}
	return best
}

// add registers p, bound to sh, unless the station already stopped.
func (t *stationTrack) add(p *Peer, sh *shard) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.peers[p] = sh
	sh.peers.Add(1)
	t.bound.Store(int32(len(t.peers)))
	select {
	case t.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	return true
}

// active reports whether any peer is bound, so the station must encode.
func (t *stationTrack) active() bool { return t.bound.Load() > 0 }

// goClose closes p on a goroutine of its own, unless the station is
// already closing every peer itself.
func (t *stationTrack) goClose(p *Peer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		p.close(true)
	}()
}

func (t *stationTrack) remove(p *Peer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sh, ok := t.peers[p]; ok {
		sh.peers.Add(-1)
		delete(t.peers, p)
	}
	t.bound.Store(int32(len(t.peers)))
}

// stopShards ends the shard goroutines. The caller makes sure no packet
// can come any more: the station clock has stopped.
func (t *stationTrack) stopShards() {
	t.stopOnce.Do(func() {
		for _, sh := range t.shards {
			close(sh.queue)
			<-sh.done
		}
	})
}

// closeWebRTC closes every peer of a station that stopped.
func (s *station) closeWebRTC() {
	if s.webrtc == nil {
		return
	}
	t := s.webrtc
	t.mu.Lock()
	t.closed = true
	peers := make([]*Peer, 0, len(t.peers))
	for p := range t.peers {
		peers = append(peers, p)
	}
	t.mu.Unlock()
	for _, p := range peers {
		p.close(true)
	}
	t.wg.Wait()
	t.stopShards()
}
