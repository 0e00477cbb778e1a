package rtc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair"
)

// gatherWait bounds how long an answer waits for the server's candidates so
// that it can carry them all; later ones are trickled.
const gatherWait = time.Second

// Peer is one WebRTC listener of a station: a PeerConnection bound to the
// station's track. Signalling drives it with SDP strings and candidates;
// it never sees pion types.
type Peer struct {
	t           *Track
	pc          *webrtc.PeerConnection
	onCandidate func(onair.ICECandidate)
	onClose     func()
	drained     chan struct{}
	aud         audience

	mu       sync.Mutex
	answered bool // candidates from now on are trickled
	once     sync.Once
}

// Listener is one WebRTC listener of a station, on whichever transport
// the server uses. Signalling drives it with SDP strings and candidates;
// it never sees pion types.
type Listener interface {
	// Answer answers the first offer, and a later ICE-restart offer on the
	// same connection.
	Answer(offer string) (string, error)
	// AddCandidate adds a browser's trickled candidate.
	AddCandidate(c onair.ICECandidate) error
	// Close ends the listener; its onClose is not called.
	Close() error
}

// NewPeer creates a listener for a live station, bound to the station's
// track: a lite one (see litePeer) unless PionPeers asks for pion
// PeerConnections. A station with no open track is not live (ErrNotLive).
// onCandidate receives the server's trickled ICE candidates (a lite
// listener has them all in its answer); onClose is called once when the
// listener ends for a reason other than its own Close (ICE failed, the
// browser left, station stopped). Both are called on the server's
// goroutines and must not block.
func (w *Server) NewPeer(ctx context.Context, slug string, onCandidate func(onair.ICECandidate), onClose func()) (Listener, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := w.track(slug)
	if t == nil {
		return nil, ErrNotLive
	}
	if w.lite() {
		p, err := w.newLitePeer(ctx, t, onClose)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	p, err := w.newPionPeer(ctx, t, onCandidate, onClose)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newPionPeer makes a listener that is a pion PeerConnection.
func (w *Server) newPionPeer(ctx context.Context, t *Track, onCandidate func(onair.ICECandidate), onClose func()) (*Peer, error) {
	sh := t.pick()
	pc, err := sh.lane.api.NewPeerConnection(w.config())
	if err != nil {
		return nil, fmt.Errorf("rtc: new peer connection: %w", err)
	}
	sender, err := pc.AddTrack(sh.track)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("rtc: add track: %w", err)
	}
	p := &Peer{t: t, pc: pc, onCandidate: onCandidate, onClose: onClose, drained: make(chan struct{}), aud: audience{t: t, userAgent: onair.UserAgent(ctx)}}
	if !t.add(p, sh) {
		_ = pc.Close()
		return nil, ErrNotLive
	}
	pc.OnICECandidate(p.candidate)
	pc.OnConnectionStateChange(p.state)
	// RTCP from the browser must be read for the interceptors to see it
	// and so that it does not pile up; the loop ends when pc closes.
	go func() {
		defer close(p.drained)
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	return p, nil
}

// Answer answers an offer: the first one, or a later ICE-restart offer on
// the same connection. The answer holds the candidates gathered within
// gatherWait.
func (p *Peer) Answer(offer string) (string, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", onair.Errorf(onair.EInvalid, "invalid offer: %v", err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", onair.Errorf(onair.EInvalid, "cannot answer offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("rtc: set local description: %w", err)
	}
	t := time.NewTimer(gatherWait)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answered = true
	return p.pc.LocalDescription().SDP, nil
}

// AddCandidate adds a browser's trickled candidate. An empty candidate
// (end of candidates) is accepted and ignored.
func (p *Peer) AddCandidate(c onair.ICECandidate) error {
	if c.Candidate == "" {
		return nil
	}
	init := webrtc.ICECandidateInit{
		Candidate:        c.Candidate,
		SDPMid:           c.SDPMid,
		SDPMLineIndex:    c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment,
	}
	if err := p.pc.AddICECandidate(init); err != nil {
		return onair.Errorf(onair.EInvalid, "invalid candidate: %v", err)
	}
	return nil
}

// Close ends the peer. onClose is not called: the caller knows.
func (p *Peer) Close() error {
	p.close(false)
	return nil
}

func (p *Peer) close(notify bool) {
	p.once.Do(func() {
		// Closing can only fail on a connection that is half torn down
		// already; either way it is gone.
		_ = p.pc.Close()
		<-p.drained
		p.t.remove(p)
		p.aud.uncount()
		if notify && p.onClose != nil {
			p.onClose()
		}
	})
}

func (p *Peer) candidate(c *webrtc.ICECandidate) {
	if c == nil || p.onCandidate == nil {
		return
	}
	p.mu.Lock()
	answered := p.answered
	p.mu.Unlock()
	if !answered {
		return // it will be in the answer
	}
	init := c.ToJSON()
	p.onCandidate(onair.ICECandidate{
		Candidate:        init.Candidate,
		SDPMid:           init.SDPMid,
		SDPMLineIndex:    init.SDPMLineIndex,
		UsernameFragment: init.UsernameFragment,
	})
}

func (p *Peer) state(st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateConnected:
		p.aud.count()
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		// pion calls this on a goroutine that closing the connection
		// waits for, so the close runs on its own, owned by the track.
		p.t.goClose(p)
	}
}
