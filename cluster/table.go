package cluster

import (
	"maps"
	"sync"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

// table holds what the other nodes last said of their listeners. A node
// that sends nothing for ttl is forgotten: its listeners stop counting and
// its demand stops keeping outputs on. It is the relay's Nodes.
type table struct {
	self string
	ttl  time.Duration

	mu    sync.Mutex
	nodes map[string]*peer
}

// peer is another node as its heartbeats tell it.
type peer struct {
	role     string
	seen     time.Time
	stations map[string]load
}

func newTable(self string, ttl time.Duration) *table {
	return &table{self: self, ttl: ttl, nodes: map[string]*peer{}}
}

// update records a heartbeat and returns the stations whose figures
// changed.
func (t *table) update(h *heartbeat, now time.Time) []string {
	if h.Node == t.self {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.nodes[h.Node]
	var old map[string]load
	if p != nil {
		old = p.stations
	}
	t.nodes[h.Node] = &peer{role: h.Role, seen: now, stations: h.Stations}
	return changed(old, h.Stations)
}

// expire forgets the nodes not heard of for ttl and returns the stations
// they had listeners of.
func (t *table) expire(now time.Time) (gone []string, slugs []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name, p := range t.nodes {
		if now.Sub(p.seen) > t.ttl {
			delete(t.nodes, name)
			gone = append(gone, name)
			slugs = append(slugs, changed(p.stations, nil)...)
		}
	}
	return gone, slugs
}

func changed(a, b map[string]load) []string {
	var out []string
	for slug, l := range a {
		if b[slug] != l {
			out = append(out, slug)
		}
	}
	for slug := range b {
		if _, ok := a[slug]; !ok {
			out = append(out, slug)
		}
	}
	return out
}

// Wants reports whether another node has a listener of out.
func (t *table) Wants(slug string, out relay.Output) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.nodes {
		l := p.stations[slug]
		switch {
		case out == relay.OutputMP3 && l.MP3 > 0,
			out == relay.OutputOgg && l.Ogg > 0,
			out == relay.OutputOpus && l.Opus:
			return true
		}
	}
	return false
}

// Listeners counts a station's listeners on the other nodes.
func (t *table) Listeners(slug string) onair.Listeners {
	t.mu.Lock()
	defer t.mu.Unlock()
	var sum onair.Listeners
	for _, p := range t.nodes {
		l := p.stations[slug]
		sum.HTTP += l.HTTP
		sum.WebRTC += l.WebRTC
	}
	return sum
}

// snapshot copies the table for metrics: node → station → load.
func (t *table) snapshot() map[string]map[string]load {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]map[string]load, len(t.nodes))
	for name, p := range t.nodes {
		out[name] = maps.Clone(p.stations)
	}
	return out
}
