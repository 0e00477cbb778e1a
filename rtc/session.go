package rtc

import (
	"sync"
	"time"

	"github.com/onairfm/onair"
)

// member is a listener bound to a track, whichever transport carries it:
// a pion PeerConnection (Peer) or a lite one (litePeer).
type member interface {
	// close ends the listener; notify tells its owner (signalling) that
	// it ended for a reason of the server's.
	close(notify bool)
}

// audience is what makes a listener of a station, whichever transport
// carries it: counted once when its connection is up, uncounted once when
// it closes, with its listening session reported at both ends.
type audience struct {
	t         *Track
	userAgent string

	mu      sync.Mutex
	counted bool // counted as a listener
	closed  bool // no longer to be counted
	sess    onair.ListenSession
}

// count makes the listener one of its station's the first time its
// connection is up, unless it closed already.
func (a *audience) count() {
	a.mu.Lock()
	first := !a.counted && !a.closed
	a.counted = a.counted || first
	if first {
		a.sess = onair.ListenSession{
			ID:        onair.NextListenSessionID(),
			Station:   a.t.slug,
			Transport: onair.TransportWebRTC,
			UserAgent: a.userAgent,
			Start:     time.Now(),
		}
	}
	sess := a.sess
	a.mu.Unlock()
	if !first {
		return
	}
	if a.t.srv != nil {
		a.t.srv.stats.connected.Add(1)
	}
	if a.t.station != nil {
		a.t.station.PeerConnected()
	}
	a.report(sess)
}

// uncount is the one place a listener stops being one: when it closes,
// for whatever reason, if it was counted. It marks it closed, so a late
// "connected" cannot count it again.
func (a *audience) uncount() {
	a.mu.Lock()
	counted, sess, closed := a.counted, a.sess, a.closed
	a.counted, a.closed = false, true
	a.mu.Unlock()
	if !counted {
		if !closed && sess.ID == 0 && a.t.srv != nil {
			a.t.srv.stats.neverConnected.Add(1)
		}
		return
	}
	if a.t.station != nil {
		a.t.station.PeerGone()
	}
	sess.End = time.Now()
	if !sess.End.After(sess.Start) {
		sess.End = sess.Start.Add(time.Millisecond)
	}
	a.report(sess)
}

// isCounted reports whether the listener is counted now.
func (a *audience) isCounted() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counted
}

// report hands ls to Server.OnSession, if set.
func (a *audience) report(ls onair.ListenSession) {
	if a.t.srv != nil && a.t.srv.OnSession != nil {
		a.t.srv.OnSession(ls)
	}
}
