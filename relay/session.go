package relay

import (
	"time"

	"github.com/onairfm/onair"
)

// newSession is a listening session starting now; nobody is told yet.
func (s *station) newSession(transport, userAgent string) onair.ListenSession {
	return onair.ListenSession{
		ID:        onair.NextListenSessionID(),
		Station:   s.slug,
		Transport: transport,
		UserAgent: userAgent,
		Start:     s.r.now(),
	}
}

// sessionStarted tells Relay.OnSession that a listener started hearing the
// station, and returns the session to hand to sessionEnded.
func (s *station) sessionStarted(transport, userAgent string) onair.ListenSession {
	ls := s.newSession(transport, userAgent)
	s.reportSession(ls)
	return ls
}

// reportSession hands ls to Relay.OnSession, if set.
func (s *station) reportSession(ls onair.ListenSession) {
	if s.r.OnSession != nil {
		s.r.OnSession(ls)
	}
}

// sessionEnded tells Relay.OnSession that the listener of ls stopped.
func (s *station) sessionEnded(ls onair.ListenSession) {
	if ls.ID == 0 {
		return
	}
	ls.End = s.r.now()
	if !ls.End.After(ls.Start) {
		ls.End = ls.Start.Add(time.Millisecond)
	}
	s.reportSession(ls)
}
