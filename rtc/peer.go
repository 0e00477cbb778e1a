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
	userAgent   string

	mu       sync.Mutex
	answered bool // candidates from now on are trickled
	counted  bool // counted as a listener
	sess     onair.ListenSession
	closed   bool
	once     sync.Once
}

// NewPeer creates a listener for a live station: a PeerConnection bound to
// the station's track. A station with no open track is not live
// (ErrNotLive). onCandidate receives the server's trickled ICE candidates;
// onClose is called once when the peer ends for a reason other than its
// own Close (ICE failed, station stopped). Both are called on pion's or
// the track's goroutines and must not block.
func (w *Server) NewPeer(ctx context.Context, slug string, onCandidate func(onair.ICECandidate), onClose func()) (*Peer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := w.track(slug)
	if t == nil {
		return nil, ErrNotLive
	}
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
	p := &Peer{t: t, pc: pc, onCandidate: onCandidate, onClose: onClose, drained: make(chan struct{}), userAgent: onair.UserAgent(ctx)}
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
		p.uncount()
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
		p.count()
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		// pion calls this on a goroutine that closing the connection
		// waits for, so the close runs on its own, owned by the track.
		p.t.goClose(p)
	}
}

// count makes p a listener of its station the first time its connection
// is up, unless it closed already.
func (p *Peer) count() {
	p.mu.Lock()
	first := !p.counted && !p.closed
	p.counted = p.counted || first
	if first {
		p.sess = p.newSession()
	}
	sess := p.sess
	p.mu.Unlock()
	if first && p.t.station != nil {
		p.t.station.PeerConnected()
	}
	if first {
		p.reportSession(sess)
	}
}

// uncount is the one place a peer stops being a listener: when it closes,
// for whatever reason, if it was counted. It marks p closed, so a late
// "connected" cannot count it again.
func (p *Peer) uncount() {
	p.mu.Lock()
	counted, sess := p.counted, p.sess
	p.counted, p.closed = false, true
	p.mu.Unlock()
	if counted && p.t.station != nil {
		p.t.station.PeerGone()
	}
	if counted {
		p.sessionEnded(sess)
	}
}
