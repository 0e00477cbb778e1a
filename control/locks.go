package control

import "sync"

// stationLocks is one mutex per station slug, made on first use and
// dropped when nobody holds or waits for it, so memory follows the
// stations being changed right now.
type stationLocks struct {
	mu sync.Mutex
	m  map[string]*stationLock
}

type stationLock struct {
	mu   sync.Mutex
	refs int // holders and waiters; guarded by stationLocks.mu
}

// lock takes slug's mutex and returns its unlock.
func (l *stationLocks) lock(slug string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*stationLock)
	}
	sl := l.m[slug]
	if sl == nil {
		sl = &stationLock{}
		l.m[slug] = sl
	}
	sl.refs++
	l.mu.Unlock()

	sl.mu.Lock()
	return func() {
		sl.mu.Unlock()
		l.mu.Lock()
		if sl.refs--; sl.refs == 0 {
			delete(l.m, slug)
		}
		l.mu.Unlock()
	}
}

// held is how many stations have a lock made, for tests.
func (l *stationLocks) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
