package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/opus"
	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair/internal/loopback"
)

// api is one pion API for every listener of the process, set to loopback
// only: candidates on 127.0.0.1, remote candidates filtered to loopback,
// no mDNS, UDP4, no STUN. Nothing leaves the machine.
var api = sync.OnceValues(func() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("client: register opus: %w", err)
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(&interceptor.Registry{})), nil
})

// Options tune a WebRTC listener.
type Options struct {
	// Decode decodes the Opus it receives (pion/opus) so Samples can be
	// checked; off for load, where only packets are counted.
	Decode bool
	// MaxSeconds caps the decoded audio kept; 0 means 60.
	MaxSeconds int
}

// Listener is one WebRTC listener of a station, negotiated over a Socket.
type Listener struct {
	Station string
	sock    *Socket
	pc      *webrtc.PeerConnection
	opts    Options

	answers chan string
	// OfferedAt and FirstPacketAt time the negotiation.
	OfferedAt     time.Time
	firstPacket   atomic.Int64 // unix ns
	packets       atomic.Int64
	lost          atomic.Int64
	ticks         atomic.Uint32 // RTP timestamp step of the last two packets in order
	connected     chan struct{}
	connectedOnce sync.Once

	mu      sync.Mutex
	pcm     []float64   // mono, 48 kHz
	arrival []time.Time // arrival of each decoded packet
	offsets []int       // pcm offset of each decoded packet
	readers sync.WaitGroup
}

// ListenWebRTC joins station's WebRTC audio through sock: it offers,
// trickles candidates, waits for the answer and returns once the offer is
// answered. Audio then arrives in the background.
func ListenWebRTC(ctx context.Context, sock *Socket, station string, opts Options) (*Listener, error) {
	a, err := api()
	if err != nil {
		return nil, err
	}
	pc, err := a.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("client: new peer connection: %w", err)
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("client: add transceiver: %w", err)
	}
	l := &Listener{Station: station, sock: sock, pc: pc, opts: opts, answers: make(chan string, 4), connected: make(chan struct{})}
	sock.hook(l.route)
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			// A lost candidate shows up as a failed connection.
			_ = sock.Send("webrtc:candidate", map[string]any{"station": station, "candidate": c.ToJSON()})
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			l.connectedOnce.Do(func() { close(l.connected) })
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		l.readers.Add(1)
		go func() {
			defer l.readers.Done()
			l.receive(t)
		}()
	})
	if err := l.negotiate(ctx, nil); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

// Restart makes an ICE-restart offer on the same connection and applies the
// answer.
func (l *Listener) Restart(ctx context.Context) error {
	return l.negotiate(ctx, &webrtc.OfferOptions{ICERestart: true})
}

func (l *Listener) negotiate(ctx context.Context, opts *webrtc.OfferOptions) error {
	offer, err := l.pc.CreateOffer(opts)
	if err != nil {
		return fmt.Errorf("client: create offer: %w", err)
	}
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("client: set local description: %w", err)
	}
	l.OfferedAt = time.Now()
	if err := l.sock.Send("webrtc:offer", map[string]any{"station": l.Station, "sdp": offer.SDP}); err != nil {
		return fmt.Errorf("client: send offer: %w", err)
	}
	select {
	case sdp := <-l.answers:
		if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
			return fmt.Errorf("client: set answer: %w", err)
		}
		return nil
	case <-l.sock.Done():
		return fmt.Errorf("client: socket closed before the answer: %w", l.sock.Err())
	case <-ctx.Done():
		return fmt.Errorf("client: waiting for the answer: %w", ctx.Err())
	}
}

// route takes this listener's answers and candidates off the socket.
func (l *Listener) route(m Message) bool {
	if m.Event != "webrtc:answer" && m.Event != "webrtc:candidate" {
		return false
	}
	var d struct {
		Station   string                   `json:"station"`
		SDP       string                   `json:"sdp"`
		Candidate *webrtc.ICECandidateInit `json:"candidate"`
	}
	if json.Unmarshal(m.Data, &d) != nil || d.Station != l.Station {
		return false
	}
	if m.Event == "webrtc:answer" {
		select {
		case l.answers <- d.SDP:
		default:
		}
	} else if d.Candidate != nil && d.Candidate.Candidate != "" {
		_ = l.pc.AddICECandidate(*d.Candidate)
	}
	return true
}

func (l *Listener) receive(t *webrtc.TrackRemote) {
	var dec opus.Decoder
	if l.opts.Decode {
		var err error
		if dec, err = opus.NewDecoderWithOutput(48000, 2); err != nil {
			return
		}
	}
	maxSamples := 48000 * l.opts.MaxSeconds
	if maxSamples == 0 {
		maxSamples = 48000 * 60
	}
	out := make([]float32, 5760*2)
	var last uint16
	var lastTS uint32
	first := true
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		if l.packets.Add(1) == 1 {
			l.firstPacket.Store(now.UnixNano())
		}
		if !first {
			if gap := pkt.SequenceNumber - last - 1; gap > 0 && gap < 1000 {
				l.lost.Add(int64(gap))
			}
			if pkt.SequenceNumber == last+1 {
				l.ticks.Store(pkt.Timestamp - lastTS)
			}
		}
		first, last, lastTS = false, pkt.SequenceNumber, pkt.Timestamp
		if !l.opts.Decode {
			continue
		}
		n, err := dec.DecodeToFloat32(pkt.Payload, out)
		if err != nil {
			continue
		}
		l.mu.Lock()
		if len(l.pcm) < maxSamples {
			l.arrival = append(l.arrival, now)
			l.offsets = append(l.offsets, len(l.pcm))
			for i := range n {
				l.pcm = append(l.pcm, (float64(out[2*i])+float64(out[2*i+1]))/2)
			}
		}
		l.mu.Unlock()
	}
}

// WaitConnected waits for ICE and DTLS to connect.
func (l *Listener) WaitConnected(ctx context.Context) error {
	select {
	case <-l.connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("client: waiting for the connection: %w", ctx.Err())
	}
}

// Packets is the number of RTP packets received; Lost counts sequence gaps.
func (l *Listener) Packets() int64 { return l.packets.Load() }

// Lost counts packets missing from the sequence.
func (l *Listener) Lost() int64 { return l.lost.Load() }

// PacketDuration is the audio each packet carries, read from the RTP
// timestamps of two packets in a row (Opus's clock is 48 kHz); zero until
// two have arrived.
func (l *Listener) PacketDuration() time.Duration {
	return time.Duration(l.ticks.Load()) * time.Second / 48000
}

// FirstPacket is when the first RTP packet arrived (zero before).
func (l *Listener) FirstPacket() time.Time {
	if ns := l.firstPacket.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Samples returns the decoded mono 48 kHz audio that arrived in [from, to).
func (l *Listener) Samples(from, to time.Time) []float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	start, end := -1, len(l.pcm)
	for i, at := range l.arrival {
		if start < 0 && !at.Before(from) {
			start = l.offsets[i]
		}
		if !at.Before(to) {
			end = l.offsets[i]
			break
		}
	}
	if start < 0 || start >= end {
		return nil
	}
	return append([]float64(nil), l.pcm[start:end]...)
}

// Decoded is how many seconds of audio were decoded.
func (l *Listener) Decoded() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(len(l.pcm)) / 48000
}

// Close closes the PeerConnection and waits for its readers.
func (l *Listener) Close() error {
	err := l.pc.Close()
	l.readers.Wait()
	if errors.Is(err, webrtc.ErrConnectionClosed) {
		err = nil
	}
	return err
}

// PC exposes the PeerConnection, for tests that inspect its state.
func (l *Listener) PC() *webrtc.PeerConnection { return l.pc }
