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
	// ErrDisabled is a correct login to an account an admin disabled.
	ErrDisabled = onair.Errorf(onair.EForbidden, "this account is disabled")
	// ErrBadSetupToken is a first-run setup with a wrong token, or after
	// an admin exists (the token is gone then).
	ErrBadSetupToken = onair.Errorf(onair.EForbidden, "setup is closed or the setup token is wrong")
	// ErrWrongPassword is a password change whose current password is wrong.
	ErrWrongPassword = onair.Errorf(onair.EForbidden, "the current password is wrong")
	// ErrNoStore is a Service used without its Store: a wiring mistake.
	ErrNoStore = errors.New("auth: no store configured")
)
