package web

import (
	"math"
	"net/http"
	"strconv"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/guard"
)

// Logins and registrations per client address: enough for a person who
// mistypes, far too few to guess passwords (each attempt also costs a
// bcrypt check).
const (
	authPerSecond = 10.0 / 60 // 10 a minute
	authBurst     = 10
)

// rateLimit takes a login attempt from r's client, or answers why not.
// The client is the real one behind a trusted proxy (see guard.Guard.Client), so
// one client cannot lock everyone behind the same proxy out.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request) error {
	ok, wait := s.authLimiter().Allow(guard.ClientKey(r), s.now())
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return onair.Errorf(onair.ERateLimited, "too many attempts: try again in %d s", secs)
}
