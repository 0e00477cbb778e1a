package web

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/onairfm/onair"
)

// Logins and registrations per client address: enough for a person who
// mistypes, far too few to guess passwords (each attempt also costs a
// bcrypt check).
const (
	authRate  = rate.Limit(10.0 / 60) // 10 a minute
	authBurst = 10
)

// ipLimiter is a token bucket per client address. Buckets are created on
// first use and dropped once idle long enough to be full again, which is
// when dropping them changes nothing; so memory follows the number of
// clients seen in the last refill period.
type ipLimiter struct {
	limit rate.Limit
	burst int
	// refill is how long an idle bucket takes to fill up.
	refill time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newIPLimiter(limit rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{
		limit:   limit,
		burst:   burst,
		refill:  time.Duration(float64(burst) / float64(limit) * float64(time.Second)),
		buckets: map[string]*bucket{},
	}
}

// allow takes one token for key at now. When there is none it returns
// false and how long until there is.
func (l *ipLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= l.refill {
		for k, b := range l.buckets {
			if now.Sub(b.last) >= l.refill {
				delete(l.buckets, k)
			}
		}
		l.swept = now
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

// size is the number of buckets held.
func (l *ipLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey is the address a client is limited by: its IP, or for IPv6
// its /64, since one host usually holds a whole /64. Forwarding headers
// are not trusted: anyone can set them.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// rateLimit takes a login attempt from r's client, or answers why not.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request) error {
	ok, wait := s.authLimiter().allow(clientKey(r), s.now())
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return onair.Errorf(onair.ERateLimited, "too many attempts: try again in %d s", secs)
}
