package rtc

import (
	"time"

	"github.com/onairfm/onair"
)

// newSession is the listening session of a peer that just connected;
// nobody is told yet.
func (p *Peer) newSession() onair.ListenSession {
	return onair.ListenSession{
		ID:        onair.NextListenSessionID(),
		Station:   p.t.slug,
		Transport: onair.TransportWebRTC,
		UserAgent: p.userAgent,
		Start:     time.Now(),
	}
}

// reportSession hands ls to Server.OnSession, if set.
func (p *Peer) reportSession(ls onair.ListenSession) {
	if p.t.srv != nil && p.t.srv.OnSession != nil {
		p.t.srv.OnSession(ls)
	}
}

// sessionEnded tells Server.OnSession that the peer of ls stopped being a
// listener.
func (p *Peer) sessionEnded(ls onair.ListenSession) {
	if ls.ID == 0 {
		return
	}
	ls.End = time.Now()
	if !ls.End.After(ls.Start) {
		ls.End = ls.Start.Add(time.Millisecond)
	}
	p.reportSession(ls)
}
