// Package rtc serves live stations to browsers over WebRTC: one pion API
// for the whole server, one Track per live station that packetizes the
// station's Opus packets once and fans them out to its peers, and the
// Peers themselves, which signalling drives with SDP strings and ICE
// candidates. It knows no clock, encoder or station state: the station
// writes packets to its Track and hears about its peers through Station.
// It never imports relay; cmd/onair wires the two together.
package rtc

import (
	"errors"
	"fmt"
	"github.com/onairfm/onair"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
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
	// Otherwise each core's share of the peers has an ephemeral port of
	// its own (a lane; see lane).
	UDPPort int
	// PortPerPeer gives each peer ephemeral ports of its own, pion's
	// default, instead of lanes: no batching, and pion peers. For
	// comparisons.
	PortPerPeer bool
	// PacketDuration is the audio each RTP packet to a listener carries:
	// the station's Opus frames are joined (RFC 6716 code 3) up to it.
	// Zero, or no more than a frame: one frame per packet.
	PacketDuration time.Duration
	// PionPeers makes each listener a full pion PeerConnection instead of
	// a lite one (see lite.go): the path onair had before, kept behind
	// webrtc.transport = pion until the lite one has met every browser.
	PionPeers bool
	// ICETCP also offers ICE over TCP (RFC 6544 passive candidates) on
	// TCPPort, for browsers whose UDP is blocked: they connect to it.
	ICETCP bool
	// TCPPort is ICE-TCP's port; 0 means an ephemeral one.
	TCPPort int
	// PublicIPs are 1:1 NAT addresses advertised instead of local ones.
	PublicIPs []string
	// ICEServers are STUN/TURN URLs used by the server's peers.
	ICEServers []string
	// Interceptors names the RTP/RTCP interceptors each peer runs:
	// "sr" (RTCP sender reports), "nack" (retransmit lost packets).
	// nil means {"sr"}: an audio broadcast needs little else.
	Interceptors []string
	Logger       *slog.Logger

	// OnSession, when set, is told of every WebRTC listening session
	// twice: when its peer first connects (End zero) and when it stops
	// being counted (End set, same ID). The User-Agent is the one
	// onair.WithUserAgent put in NewPeer's context. It is called on
	// pion's goroutines and must not block.
	OnSession func(onair.ListenSession)

	once    sync.Once
	err     error
	lanes   []*lane
	tcpMux  ice.TCPMux
	tcpLite *tcpSplitter // under tcpMux when listeners are lite
	hostIPs []string     // the addresses lite answers advertise
	stats   stats
	liteServerState

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
	if w.ICETCP {
		if err := w.listenTCP(&se); err != nil {
			return err
		}
	}
	if w.lite() {
		ips, err := w.advertised()
		if err != nil {
			// Stations still play, and players fall back to HTTP: an
			// answer with no candidate never connects.
			w.logger().Warn("webrtc listeners cannot connect", "err", err)
		}
		w.hostIPs = ips
		if err := w.liteSetup(); err != nil {
			return err
		}
	}
	n := max(1, runtime.GOMAXPROCS(0))
	if w.UDPPort != 0 || w.PortPerPeer {
		n = 1
	}
	for range n {
		l, err := w.newLane(se, m, reg)
		if err != nil {
			_ = w.Close()
			return err
		}
		w.lanes = append(w.lanes, l)
	}
	if w.lite() {
		for _, l := range w.lanes {
			l.candidates = w.liteCandidates(l)
		}
		w.startSweep()
	}
	return nil
}

// lane is one pion API and the UDP socket its peers share (pion's ICE UDP
// mux), with the batching that lets a shard send a packet to all its
// peers in a few sendmmsg calls instead of a sendto each; a shard writes
// through one lane. Without a socket (PortPerPeer), its peers have ports
// of their own.
type lane struct {
	api  *webrtc.API
	mux  ice.UDPMux
	conn *batchConn
	lite *liteTable // the lane's lite listeners; nil without a socket
	// candidates are what a lite answer for the lane's listeners offers.
	candidates []string
}

// udpBuffer sizes a lane socket's kernel buffers: a batch of a thousand
// listeners' packets must not overflow them.
const udpBuffer = 4 << 20

func (w *Server) newLane(se webrtc.SettingEngine, m *webrtc.MediaEngine, reg *interceptor.Registry) (*lane, error) {
	l := &lane{}
	if !w.PortPerPeer {
		host := ""
		if w.LoopbackOnly {
			host = "127.0.0.1"
		}
		addr, err := net.ResolveUDPAddr("udp4", net.JoinHostPort(host, strconv.Itoa(w.UDPPort)))
		if err != nil {
			return nil, fmt.Errorf("rtc: webrtc udp port %d: %w", w.UDPPort, err)
		}
		conn, err := net.ListenUDP("udp4", addr)
		if err != nil {
			return nil, fmt.Errorf("rtc: webrtc udp port %d: %w", w.UDPPort, err)
		}
		// Best effort: the system may cap the sizes.
		_ = conn.SetWriteBuffer(udpBuffer)
		_ = conn.SetReadBuffer(udpBuffer)
		l.conn = newBatchConn(conn)
		l.lite = newLiteTable(w.LoopbackOnly)
		l.conn.intercept = l.lite.handle
		l.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: l.conn, Logger: pionLogs{w.logger()}.NewLogger("ice-udp")})
		se.SetICEUDPMux(l.mux)
	}
	l.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return l, nil
}

// tcpReadBuffer is how many packets the ICE-TCP mux buffers per
// connection: audio is one 20 ms packet at a time downstream, and
// upstream carries only STUN and RTCP.
const tcpReadBuffer = 32

// listenTCP opens ICE-TCP's port and makes the peers offer passive TCP
// candidates on it: a browser that cannot use UDP dials it (RFC 6544),
// and the mux tells its connection apart by the ICE username of its first
// STUN request.
func (w *Server) listenTCP(se *webrtc.SettingEngine) error {
	host := ""
	if w.LoopbackOnly {
		host = "127.0.0.1"
		// loopback.Configure allows UDP only.
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(w.TCPPort)))
	if err != nil {
		return fmt.Errorf("rtc: ice-tcp port %d: %w", w.TCPPort, err)
	}
	if w.lite() {
		// Lite listeners' connections are kept before pion's mux sees them.
		w.tcpLite = newTCPSplitter(ln, w)
		ln = w.tcpLite
	}
	w.tcpMux = webrtc.NewICETCPMux(pionLogs{w.logger()}.NewLogger("ice-tcp"), ln, tcpReadBuffer)
	se.SetICETCPMux(w.tcpMux)
	return nil
}

// TCPAddr is the address ICE-TCP listens on, or nil when it is off or the
// server is not set up yet.
func (w *Server) TCPAddr() net.Addr {
	if w.tcpMux == nil {
		return nil
	}
	if a, ok := w.tcpMux.(interface{ LocalAddr() net.Addr }); ok {
		return a.LocalAddr()
	}
	return nil
}

// Close releases the lanes' UDP ports and ICE-TCP's port. pion's muxes
// own their sockets once they are made: closing a mux closes its socket.
func (w *Server) Close() error {
	if w.sweepStop != nil {
		close(w.sweepStop)
		<-w.sweepDone
		w.sweepStop = nil
	}
	w.dtlsWG.Wait()
	var errs []error
	for _, l := range w.lanes {
		if l.mux != nil {
			errs = append(errs, l.mux.Close())
		}
	}
	if w.tcpMux != nil {
		errs = append(errs, w.tcpMux.Close())
	}
	return errors.Join(errs...)
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
	pc, err := w.lanes[0].api.NewPeerConnection(w.config())
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
