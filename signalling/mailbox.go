package signalling

import (
	"sync"

	"github.com/onairfm/onair"
)

// mailbox carries published events from the relay's goroutines to the hub's
// event loop without ever blocking the publisher. It is bounded: a waiting
// listener count is replaced by a newer one of the same station, and other
// events beyond the bound are refused.
type mailbox struct {
	mu        sync.Mutex
	events    []onair.Event
	listeners map[string]int // station → index in events of its waiting count
	max       int
	wake      chan struct{} // one pending wake-up is enough
}

func (m *mailbox) init(max int) {
	m.max = max
	m.listeners = make(map[string]int)
	m.wake = make(chan struct{}, 1)
}

// put queues e and reports false when it had to be dropped.
func (m *mailbox) put(e onair.Event) bool {
	m.mu.Lock()
	if i, ok := m.listeners[e.Station]; ok && e.Kind == onair.EventListeners {
		m.events[i] = e
	} else {
		if len(m.events) >= m.max {
			m.mu.Unlock()
			return false
		}
		if e.Kind == onair.EventListeners {
			m.listeners[e.Station] = len(m.events)
		}
		m.events = append(m.events, e)
	}
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns every waiting event, oldest first.
func (m *mailbox) take() []onair.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := m.events
	m.events = nil
	clear(m.listeners)
	return ev
}
