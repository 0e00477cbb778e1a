package signalling

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// userLimits rate-limits one kind of action per user, over all of the
// user's connections, so opening more sockets buys no more chat.
type userLimits struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[int64]*rate.Limiter
}

func (u *userLimits) init(perSecond float64, burst int) {
	u.every = rate.Limit(perSecond)
	u.burst = burst
	u.m = make(map[int64]*rate.Limiter)
}

// allow spends one token of user id's bucket, if there is one.
func (u *userLimits) allow(id int64, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	l := u.m[id]
	if l == nil {
		l = rate.NewLimiter(u.every, u.burst)
		u.m[id] = l
	}
	return l.AllowN(now, 1)
}

// prune forgets the users whose bucket is full again: a fresh limiter
// would behave the same, so the map only holds recently active users.
func (u *userLimits) prune(now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, l := range u.m {
		if l.TokensAt(now) >= float64(u.burst) {
			delete(u.m, id)
		}
	}
}
