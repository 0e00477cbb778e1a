// Package rtc serves live stations to browsers over WebRTC: one pion API
// for the whole server, one Track per live station that packetizes the
// station's Opus packets once and fans them out to its peers, and the
// Peers themselves, which signalling drives with SDP strings and ICE
// candidates. It knows no clock, encoder or station state: the station
// writes packets to its Track and hears about its peers through Station.
// It never imports relay; cmd/onair wires the two together.
package rtc

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
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

// Server is the server's WebRTC side: one pion API shared by every peer of
// every station, and the tracks of the live stations, found by slug when a
// browser asks to listen. Fill the exported fields before the first track
// is made.
type Server struct {
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

	mu sync.Mutex
	// tracks holds the open tracks by station slug, oldest first. There
	// is one, except for a moment when a station goes live again before
	// its last run's track has closed: peers go to the newest.
	tracks map[string][]*Track
}

// opusCodec is the only codec offered: Opus, 48 kHz, stereo.
var opusCodec = webrtc.RTPCodecCapability{
	MimeType:    webrtc.MimeTypeOpus,
	ClockRate:   48000,
	Channels:    2,
	SDPFmtpLine: "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1",
}

// setup builds the shared pion API on first use.
func (w *Server) setup() error {
	w.once.Do(func() { w.err = w.build() })
	return w.err
}

func (w *Server) build() error {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("rtc: register opus: %w", err)
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
				return fmt.Errorf("rtc: sender reports: %w", err)
			}
			reg.Add(f)
		case "nack":
			f, err := nack.NewResponderInterceptor()
			if err != nil {
				return fmt.Errorf("rtc: nack responder: %w", err)
			}
			reg.Add(f)
			m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeAudio)
		default:
			return fmt.Errorf("rtc: unknown interceptor %q", name)
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
			return fmt.Errorf("rtc: public ips: %w", err)
		}
	}
	if w.UDPPort != 0 {
		host := ""
		if w.LoopbackOnly {
			host = "127.0.0.1"
		}
		conn, err := net.ListenPacket("udp4", net.JoinHostPort(host, strconv.Itoa(w.UDPPort)))
		if err != nil {
			return fmt.Errorf("rtc: webrtc udp port %d: %w", w.UDPPort, err)
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
func (w *Server) Close() error {
	if w.mux != nil {
		return w.mux.Close()
	}
	if w.conn != nil {
		return w.conn.Close()
	}
	return nil
}

func (w *Server) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (w *Server) config() webrtc.Configuration {
	var cfg webrtc.Configuration
	if len(w.ICEServers) > 0 {
		cfg.ICEServers = []webrtc.ICEServer{{URLs: w.ICEServers}}
	}
	return cfg
}

// NewPeerConnection makes a PeerConnection with the server's settings
// (codec, interceptors, ICE, UDP port, public IPs, ICE servers): for a
// WebRTC endpoint of the server other than a station's listeners. Its
// media engine knows Opus only. The caller closes it.
func (w *Server) NewPeerConnection() (*webrtc.PeerConnection, error) {
	if err := w.setup(); err != nil {
		return nil, err
	}
	pc, err := w.api.NewPeerConnection(w.config())
	if err != nil {
		return nil, fmt.Errorf("rtc: new peer connection: %w", err)
	}
	return pc, nil
}

// register makes t the track new peers of its station are bound to.
func (w *Server) register(t *Track) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tracks == nil {
		w.tracks = map[string][]*Track{}
	}
	w.tracks[t.slug] = append(w.tracks[t.slug], t)
}

// forget removes t: no new peer is bound to it.
func (w *Server) forget(t *Track) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := slices.DeleteFunc(w.tracks[t.slug], func(o *Track) bool { return o == t })
	if len(ts) == 0 {
		delete(w.tracks, t.slug)
		return
	}
	w.tracks[t.slug] = ts
}

// track returns the station's newest open track, or nil.
func (w *Server) track(slug string) *Track {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.tracks[slug]
	if len(ts) == 0 {
		return nil
	}
	return ts[len(ts)-1]
}

// rtpMTU bounds an RTP packet's size, as pion's own sample track does; an
// Opus packet of 60 ms at 96 kbit/s is 720 bytes.
const rtpMTU = 1200

// Station is what a track tells its station about its peers. The relay's
// station implements it (cmd/onair passes it through). Its methods run on
// pion's and the track's goroutines and must not block.
type Station interface {
	// PeerBound: a peer was bound to the track, so the station should
	// start encoding now rather than at its next tick.
	PeerBound()
	// PeerConnected: a peer's connection is up; it counts as a listener.
	PeerConnected()
	// PeerGone: a peer that was counted went away. It is called once for
	// each PeerConnected, from Peer.uncount.
	PeerGone()
}

// Track is a station's WebRTC output. Each Opus packet is
// packetized once, so every listener gets the same sequence numbers and
// timestamps, and handed to shards: a shard is a pion track holding its
// share of the station's peers, with a goroutine that writes the packets
// to them. The station clock only queues, so it never waits on the
// fan-out (writing a packet to a peer is a UDP send, ~5 us here), and the
// fan-out uses every core.
type Track struct {
	srv        *Server // nil in tests that build a track by hand
	slug       string
	station    Station // nil: nobody is told
	packetizer rtp.Packetizer
	shards     []*shard
	bound      atomic.Int32 // peers bound: the Opus path runs while > 0
	dropped    atomic.Int64 // packets a shard was too far behind to take

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

// NewTrack makes the track of station slug and starts its shard
// goroutines; new peers of the station are bound to it until it is
// closed. st hears about the track's peers. The station owns the track:
// it alone writes to it, and it closes it when it stops.
func (w *Server) NewTrack(slug string, st Station) (*Track, error) {
	if err := w.setup(); err != nil {
		return nil, err
	}
	t := &Track{
		srv:        w,
		slug:       slug,
		station:    st,
		packetizer: rtp.NewPacketizer(rtpMTU, 111, 0, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), opusCodec.ClockRate),
		peers:      map[*Peer]*shard{},
	}
	for i := range max(1, runtime.GOMAXPROCS(0)) {
		track, err := webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "onair-"+slug)
		if err != nil {
			t.stopShards()
			return nil, fmt.Errorf("rtc: new track %d: %w", i, err)
		}
		sh := &shard{track: track, queue: make(chan []*rtp.Packet, shardQueue), done: make(chan struct{})}
		t.shards = append(t.shards, sh)
		go sh.run()
	}
	w.register(t)
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
func (t *Track) packetize(pkt []byte, dur time.Duration) []*rtp.Packet {
	samples := uint32(dur * time.Duration(opusCodec.ClockRate) / time.Second)
	return t.packetizer.Packetize(pkt, samples)
}

// Write queues one Opus packet of duration dur for every shard that has
// peers. It never blocks: a shard too far behind misses the packet.
func (t *Track) Write(pkt []byte, dur time.Duration) {
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
func (t *Track) pick() *shard {
	best := t.shards[0]
	for _, sh := range t.shards[1:] {
		if sh.peers.Load() < best.peers.Load() {
			best = sh
		}
	}
	return best
}

// add registers p, bound to sh, unless the station already stopped.
func (t *Track) add(p *Peer, sh *shard) bool {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return false
	}
	t.peers[p] = sh
	sh.peers.Add(1)
	t.bound.Store(int32(len(t.peers)))
	t.mu.Unlock()
	if t.station != nil {
		t.station.PeerBound()
	}
	return true
}

// Active reports whether any peer is bound, so the station must encode.
func (t *Track) Active() bool { return t.bound.Load() > 0 }

// goClose closes p on a goroutine of its own, unless the station is
// already closing every peer itself.
func (t *Track) goClose(p *Peer) {
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

func (t *Track) remove(p *Peer) {
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
func (t *Track) stopShards() {
	t.stopOnce.Do(func() {
		for _, sh := range t.shards {
			close(sh.queue)
			<-sh.done
		}
	})
}

// Close closes every peer of a station that stopped and ends the shard
// goroutines; it returns when they are all done. The station calls it once
// its clock no longer writes; calling it again does nothing more.
func (t *Track) Close() {
	if t.srv != nil {
		t.srv.forget(t)
	}
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
