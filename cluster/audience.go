package cluster

import (
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/onairfm/onair"
)

// An edge has no database: the listening sessions and the chat and likes
// its clients make are counted by the origin's statistics. The edge
// publishes each as it happens; the origin gives each session an ID of its
// own (IDs are only unique within a process) and ends the open sessions of
// a node that vanishes.

// subjAudience carries an edge's listening sessions and engagement.
const subjAudience = "onair._sys.audience"

type audienceMsg struct {
	Node       string               `json:"node"`
	Session    *onair.ListenSession `json:"session,omitempty"`
	Station    string               `json:"station,omitempty"` // engagement
	Engagement string               `json:"engagement,omitempty"`
}

const (
	maxUserAgent   = 512
	maxOpenRemote  = 1 << 20
	sessionTimeAge = 48 * time.Hour
)

// Session hands a listening session of this edge to the origin (the
// relay's and the WebRTC side's OnSession on an edge). It never blocks.
func (n *Node) Session(ls onair.ListenSession) {
	n.publishJSON(subjAudience, audienceMsg{Node: n.Name, Session: &ls})
}

// Engagement hands a chat message or like on this edge to the origin (the
// hub's OnEngagement on an edge).
func (n *Node) Engagement(station, kind string) {
	n.publishJSON(subjAudience, audienceMsg{Node: n.Name, Station: station, Engagement: kind})
}

// remoteSessions maps other nodes' open sessions to the origin's IDs.
type remoteSessions struct {
	mu   sync.Mutex
	open map[string]onair.ListenSession // node/ID → the session as recorded
}

func sessionKey(node string, id uint64) string { return node + "/" + strconv.FormatUint(id, 10) }

func (n *Node) onAudience(m *nats.Msg) {
	var a audienceMsg
	if !n.decode(m, &a) || a.Node == n.Name || n.Origin.Audience == nil {
		return
	}
	if a.Session == nil {
		if !slugRE.MatchString(a.Station) || (a.Engagement != "chat" && a.Engagement != "like") {
			n.drop(ErrBadMessage)
			return
		}
		n.Origin.Audience.Engagement(a.Station, a.Engagement)
		return
	}
	ls := *a.Session
	now := time.Now()
	if !slugRE.MatchString(ls.Station) || (ls.Transport != onair.TransportHTTP && ls.Transport != onair.TransportWebRTC) ||
		len(ls.UserAgent) > maxUserAgent || ls.Start.Before(now.Add(-sessionTimeAge)) || ls.Start.After(now.Add(time.Minute)) ||
		(!ls.End.IsZero() && ls.End.Before(ls.Start)) {
		n.drop(ErrBadMessage)
		return
	}
	key := sessionKey(a.Node, ls.ID)
	rs := &n.origin.sessions
	rs.mu.Lock()
	if ls.End.IsZero() {
		if _, dup := rs.open[key]; dup || len(rs.open) >= maxOpenRemote {
			rs.mu.Unlock()
			n.drop(ErrBadMessage)
			return
		}
		ls.ID = onair.NextListenSessionID()
		rs.open[key] = ls
	} else {
		started, ok := rs.open[key]
		delete(rs.open, key)
		if !ok {
			rs.mu.Unlock()
			n.drop(ErrBadMessage)
			return
		}
		ls.ID, ls.Start = started.ID, started.Start
	}
	rs.mu.Unlock()
	n.Origin.Audience.Session(ls)
}

// endSessionsOf ends the open sessions of a node that vanished, now.
func (n *Node) endSessionsOf(node string) {
	if n.origin == nil || n.Origin.Audience == nil {
		return
	}
	prefix := node + "/"
	var ended []onair.ListenSession
	now := time.Now()
	rs := &n.origin.sessions
	rs.mu.Lock()
	for key, ls := range rs.open {
		if len(key) > len(prefix) && key[:len(prefix)] == prefix {
			delete(rs.open, key)
			ls.End = now
			ended = append(ended, ls)
		}
	}
	rs.mu.Unlock()
	for _, ls := range ended {
		n.Origin.Audience.Session(ls)
	}
}
