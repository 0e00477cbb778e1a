package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
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

	se := webrtc.SettingEngine{}
	// A server has no use for mDNS, and pion's default multicasts queries.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// A listener that vanished without a goodbye is given up after 15 s
	// (pion's default is 25 s): its count and its memory go sooner, and a
	// browser that only lost the network restarts ICE well before.
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	if w.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
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

// Close releases the shared UDP port.
func (w *WebRTC) Close() error {
	var errs []error
	if w.mux != nil {
		errs = append(errs, w.mux.Close())
	}
	if w.conn != nil {
		errs = append(errs, w.conn.Close())
	}
	return errors.Join(errs...)
}

func (w *WebRTC) config() webrtc.Configuration {
	var cfg webrtc.Configuration
	if len(w.ICEServers) > 0 {
		cfg.ICEServers = []webrtc.ICEServer{{URLs: w.ICEServers}}
	}
	return cfg
}

// stationTrack is a station's one WebRTC track. Every peer is bound to it,
// so each Opus packet is packetized once with one set of timestamps and
// written to every listener.
type stationTrack struct {
	track *webrtc.TrackLocalStaticSample

	bound atomic.Int32 // peers bound: the Opus path runs while > 0
	wake  chan<- struct{}

	mu     sync.Mutex
	peers  map[*Peer]struct{}
	closed bool
	wg     sync.WaitGroup // closes started by pion callbacks
}

// newStationTrack makes a station's track; wake is nudged when a peer is
// bound, so the station starts encoding without waiting for its next tick.
func (w *WebRTC) newStationTrack(slug string, wake chan<- struct{}) (*stationTrack, error) {
	if err := w.setup(); err != nil {
		return nil, err
	}
	t, err := webrtc.NewTrackLocalStaticSample(opusCodec, "audio", "onair-"+slug)
	if err != nil {
		return nil, fmt.Errorf("relay: new track: %w", err)
	}
	return &stationTrack{track: t, peers: map[*Peer]struct{}{}, wake: wake}, nil
}

func (t *stationTrack) write(pkt []byte, dur time.Duration) {
	// A peer that went away is pion's to skip; the station goes on.
	_ = t.track.WriteSample(media.Sample{Data: pkt, Duration: dur})
}

// add registers p, unless the station already stopped.
func (t *stationTrack) add(p *Peer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.peers[p] = struct{}{}
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
	delete(t.peers, p)
	t.bound.Store(int32(len(t.peers)))
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
}
