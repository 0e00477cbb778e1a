// Package limit owns the per-key limits of onair: token buckets keyed by
// client address or user (how often), and counters of what one key holds
// open at once (how many).
package limit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket per key. Buckets are made on first use and
// dropped once idle long enough to be full again, which is when dropping
// them changes nothing; so memory follows the keys seen in the last refill
// period. The zero Rate is not usable: use NewRate.
type Rate[K comparable] struct {
	limit rate.Limit
	burst int
	// refill is how long an idle bucket takes to fill up.
	refill time.Duration

	mu      sync.Mutex
	buckets map[K]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewRate allows burst events at once per key, refilled at perSecond.
func NewRate[K comparable](perSecond float64, burst int) *Rate[K] {
	if perSecond <= 0 {
		perSecond = 1
	}
	if burst <= 0 {
		burst = 1
	}
	return &Rate[K]{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		refill:  time.Duration(float64(burst) / perSecond * float64(time.Second)),
		buckets: map[K]*bucket{},
	}
}

// Allow takes one token for key at now. When there is none it returns
// false and how long until there is one.
func (l *Rate[K]) Allow(key K, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= l.refill {
		l.sweepLocked(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Sweep forgets the buckets idle for a whole refill period. Allow sweeps
// by itself now and then; a caller with its own ticker may call it too.
func (l *Rate[K]) Sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
}

func (l *Rate[K]) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.refill {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

// Len is the number of buckets held.
func (l *Rate[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
