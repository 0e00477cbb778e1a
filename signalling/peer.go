package signalling

import (
	"fmt"
	"sync"

	"github.com/onairfm/onair"
)

// maxHeldCandidates bounds the server candidates kept back while an answer
// is being made; a real answer gathers a handful.
const maxHeldCandidates = 64

// peerEntry is a socket's PeerConnection for one station. The WebRTC side
// calls its callbacks on its own goroutines; they only queue messages.
type peerEntry struct {
	c       *conn
	station string
	p       Peer // set before the entry is registered, never changed

	mu sync.Mutex
	// answering holds server candidates back while Answer runs: a browser
	// rejects a candidate that arrives before the answer it belongs to.
	answering bool
	held      []onair.ICECandidate
	closed    bool
	closeOnce sync.Once
}

// onCandidate forwards a server candidate to the client.
func (e *peerEntry) onCandidate(cand onair.ICECandidate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
	case e.answering:
		if len(e.held) < maxHeldCandidates {
			e.held = append(e.held, cand)
		}
	default:
		e.c.reply(evCandidate, candidateMsg{Station: e.station, Candidate: cand}, "")
	}
}

// onClose is the WebRTC side saying it closed the PeerConnection.
func (e *peerEntry) onClose() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.c.forgetPeer(e)
}

// close closes the PeerConnection once. It is called without any lock
// held, since the WebRTC side may call onClose from inside Close.
func (e *peerEntry) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.closeOnce.Do(func() {
		if err := e.p.Close(); err != nil {
			e.c.logger().Debug("close peer", "station", e.station, "err", err)
		}
	})
}

// answered queues the answer and then the candidates held back meanwhile.
func (e *peerEntry) answered(sdp, ref string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answering = false
	held := e.held
	e.held = nil
	if e.closed {
		return onair.Errorf(onair.ENotFound, "the peer connection for %q closed", e.station)
	}
	e.c.reply(evAnswer, answerMsg{Station: e.station, SDP: sdp}, ref)
	for _, cand := range held {
		e.c.reply(evCandidate, candidateMsg{Station: e.station, Candidate: cand}, "")
	}
	return nil
}

// answerFailed lets held candidates through again after a failed
// ICE-restart answer; the PeerConnection itself goes on.
func (e *peerEntry) answerFailed() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answering = false
	e.held = nil
}

// offer answers a client's offer: the first one for a station creates the
// PeerConnection, later ones are ICE restarts on the same one. Listening
// needs no account.
func (c *conn) offer(ref string, d *offerData) error {
	h := c.hub
	if h.Peers == nil {
		return fmt.Errorf("signalling: offer %s: no peer factory configured", d.Station)
	}
	e := c.peer(d.Station)
	if e == nil {
		if c.peerCount() >= h.lim.MaxPeers {
			return onair.Errorf(onair.ERateLimited, "a connection may hold at most %d peer connections", h.lim.MaxPeers)
		}
		e = &peerEntry{c: c, station: d.Station, answering: true}
		// The peer lives as long as the socket, not as long as this
		// request.
		p, err := h.Peers.NewPeer(c.ctx, d.Station, e.onCandidate, e.onClose)
		if err != nil {
			return fmt.Errorf("signalling: new peer for %s: %w", d.Station, err)
		}
		e.p = p
		if !c.addPeer(e) {
			e.close()
			return onair.Errorf(onair.ENotFound, "the peer connection for %q closed", d.Station)
		}
		sdp, err := p.Answer(d.SDP)
		if err != nil {
			if c.detachPeer(d.Station) == e {
				e.close()
			}
			return fmt.Errorf("signalling: answer %s: %w", d.Station, err)
		}
		return e.answered(sdp, ref)
	}
	e.mu.Lock()
	e.answering = true
	e.mu.Unlock()
	sdp, err := e.p.Answer(d.SDP)
	if err != nil {
		e.answerFailed()
		return fmt.Errorf("signalling: ICE restart %s: %w", d.Station, err)
	}
	return e.answered(sdp, ref)
}

// candidate hands a client candidate to the station's PeerConnection. An
// empty or null candidate (end of candidates) needs nothing.
func (c *conn) candidate(ref string, d *candidateData) error {
	if d.Candidate == nil || d.Candidate.Candidate == "" {
		c.ack(ref)
		return nil
	}
	e := c.peer(d.Station)
	if e == nil {
		return onair.Errorf(onair.ENotFound, "no peer connection for %q: send webrtc:offer first", d.Station)
	}
	if err := e.p.AddCandidate(*d.Candidate); err != nil {
		return fmt.Errorf("signalling: add candidate %s: %w", d.Station, err)
	}
	c.ack(ref)
	return nil
}

func (c *conn) peer(station string) *peerEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peers[station]
}

func (c *conn) peerCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.peers)
}

// addPeer registers e unless the WebRTC side closed it already or the socket is
// going away.
func (c *conn) addPeer(e *peerEntry) bool {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if closed || c.ctx.Err() != nil {
		return false
	}
	c.peers[e.station] = e
	return true
}

// detachPeer removes and returns the station's entry; the caller closes it.
func (c *conn) detachPeer(station string) *peerEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.peers[station]
	delete(c.peers, station)
	return e
}

// forgetPeer removes e if it is still the station's entry.
func (c *conn) forgetPeer(e *peerEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peers[e.station] == e {
		delete(c.peers, e.station)
	}
}

// closePeers closes every PeerConnection of a closed socket.
func (c *conn) closePeers() {
	c.mu.Lock()
	peers := c.peers
	c.peers = make(map[string]*peerEntry)
	c.mu.Unlock()
	for _, e := range peers {
		e.close()
	}
}
