package auth

import (
	"errors"

	"github.com/onairfm/onair"
)

// The errors a client may see. Each is the same value every time, so the
// answer to a failed login says nothing about which half was wrong.
var (
	// ErrBadCredentials is a failed login: unknown user or wrong password.
	ErrBadCredentials = onair.Errorf(onair.EUnauthorized, "invalid username or password")
	// ErrNoSession is a token that names no live session: unknown, logged
	// out or expired.
	ErrNoSession = onair.Errorf(onair.EUnauthorized, "not logged in or session expired")
	// ErrNoStore is a Service used without its Store: a wiring mistake.
	ErrNoStore = errors.New("auth: no store configured")
)
