package cluster

import (
	"slices"
	"sync"
	"time"
)

// delays keeps the last origin → edge delays of one kind of message (the
// origin's send time is in the message; both clocks are assumed close,
// as on one machine or under NTP), for the p50/p99 /metrics reports.
type delays struct {
	mu   sync.Mutex
	ring [4096]time.Duration
	n    int // samples taken, ever
}

func (d *delays) add(sentNS int64, now time.Time) {
	if sentNS <= 0 {
		return
	}
	v := now.Sub(time.Unix(0, sentNS))
	d.mu.Lock()
	d.ring[d.n%len(d.ring)] = v
	d.n++
	d.mu.Unlock()
}

// quantiles returns the p50 and p99 of the samples held, ok false when
// there are none.
func (d *delays) quantiles() (p50, p99 time.Duration, ok bool) {
	d.mu.Lock()
	held := slices.Clone(d.ring[:min(d.n, len(d.ring))])
	d.mu.Unlock()
	if len(held) == 0 {
		return 0, 0, false
	}
	slices.Sort(held)
	return held[len(held)*50/100], held[min(len(held)*99/100, len(held)-1)], true
}
