package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/client"
)

// firstPacketPoll is how often a new WebRTC listener checks for its first
// packet. The packet's arrival time is recorded by the client when it
// arrives, so the poll only bounds how soon the listener counts as in.
const firstPacketPoll = 5 * time.Millisecond

// rtcListener is one browser-like WebRTC listener: its own WebSocket, an
// offer, trickled candidates, then Opus packets over loopback UDP.
type rtcListener struct {
	wsURL, station string
	decode         bool
	keep           time.Duration // of decoded audio
	maxConnect     time.Duration
	ready          chan struct{}

	mu      sync.Mutex
	start   time.Time
	offered time.Time
	first   time.Time
	sock    *client.Socket
	l       *client.Listener
	failure string
	err     error
}

func newRTCListener(wsURL, station string, decode bool, keep, maxConnect time.Duration) *rtcListener {
	return &rtcListener{wsURL: wsURL, station: station, decode: decode, keep: keep, maxConnect: maxConnect, ready: make(chan struct{})}
}

// connect negotiates and waits for the first audio packet. Audio then
// flows in the background until close.
func (r *rtcListener) connect(ctx context.Context) {
	defer close(r.ready)
	start := time.Now()
	r.mu.Lock()
	r.start = start
	r.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, r.maxConnect)
	defer cancel()
	sock, err := client.Dial(cctx, r.wsURL, nil)
	if err != nil {
		r.fail(ctx, "dial", err)
		return
	}
	r.mu.Lock()
	r.sock = sock
	r.mu.Unlock()
	l, err := client.ListenWebRTC(cctx, sock, r.station, client.Options{Decode: r.decode, MaxSeconds: int(r.keep.Seconds()) + 1})
	if err != nil {
		r.fail(ctx, "offer", err)
		return
	}
	r.mu.Lock()
	r.l, r.offered = l, l.OfferedAt
	r.mu.Unlock()
	t := time.NewTicker(firstPacketPoll)
	defer t.Stop()
	for {
		if at := l.FirstPacket(); !at.IsZero() {
			r.mu.Lock()
			r.first = at
			r.mu.Unlock()
			return
		}
		select {
		case <-cctx.Done():
			r.fail(ctx, "timeout", fmt.Errorf("load: no audio packet within %v: %w", r.maxConnect, cctx.Err()))
			return
		case <-sock.Done():
			r.fail(ctx, "socket", fmt.Errorf("load: socket closed before audio: %w", sock.Err()))
			return
		case <-t.C:
		}
	}
}

func (r *rtcListener) fail(ctx context.Context, kind string, err error) {
	if ctx.Err() != nil {
		kind = "cancelled"
	} else if isTimeout(err) {
		kind = "timeout"
	}
	r.mu.Lock()
	r.failure, r.err = kind, err
	r.mu.Unlock()
}

// packets returns the packets received and lost so far.
func (r *rtcListener) packets() (got, lost int64) {
	r.mu.Lock()
	l := r.l
	r.mu.Unlock()
	if l == nil {
		return 0, 0
	}
	return l.Packets(), l.Lost()
}

// packetDuration is the audio per packet the listener has seen; zero
// before two packets.
func (r *rtcListener) packetDuration() time.Duration {
	r.mu.Lock()
	l := r.l
	r.mu.Unlock()
	if l == nil {
		return 0
	}
	return l.PacketDuration()
}

// alive reports whether the listener is still connected.
func (r *rtcListener) alive() bool {
	r.mu.Lock()
	l, sock, first := r.l, r.sock, r.first
	r.mu.Unlock()
	if l == nil || first.IsZero() {
		return false
	}
	select {
	case <-sock.Done():
		return false
	default:
	}
	return l.PC().ConnectionState() == webrtc.PeerConnectionStateConnected
}

// level is the RMS of the audio decoded between from and to; -1 when the
// listener does not decode.
func (r *rtcListener) level(from, to time.Time) (rms, seconds float64) {
	r.mu.Lock()
	l := r.l
	r.mu.Unlock()
	if !r.decode || l == nil {
		return -1, 0
	}
	s := l.Samples(from, to)
	return audiotest.RMS(s), float64(len(s)) / 48000
}

func (r *rtcListener) close() error {
	r.mu.Lock()
	l, sock := r.l, r.sock
	r.mu.Unlock()
	var errs []error
	if l != nil {
		errs = append(errs, l.Close())
	}
	if sock != nil {
		errs = append(errs, sock.Close())
	}
	return errors.Join(errs...)
}

// RTCResult is one WebRTC listener's run.
type RTCResult struct {
	ConnectMS     float64 `json:"connect_ms,omitempty"`        // socket dial to first audio packet
	FirstPacketMS float64 `json:"offer_to_first_ms,omitempty"` // offer sent to first audio packet
	Packets       int64   `json:"packets"`                     // in the steady phase
	Expected      int64   `json:"expected"`                    // steady phase / packet duration
	Lost          int64   `json:"lost"`                        // sequence gaps in the steady phase
	Dropped       bool    `json:"dropped,omitempty"`
	DecodedRMS    float64 `json:"decoded_rms,omitempty"`
	DecodedSec    float64 `json:"decoded_seconds,omitempty"`
	Failure       string  `json:"failure,omitempty"`
	Error         string  `json:"error,omitempty"`
}

func (r *rtcListener) result() RTCResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := RTCResult{Failure: r.failure}
	if r.err != nil {
		res.Error = r.err.Error()
	}
	if !r.first.IsZero() {
		res.ConnectMS = ms(r.first.Sub(r.start))
		res.FirstPacketMS = ms(r.first.Sub(r.offered))
	}
	return res
}
