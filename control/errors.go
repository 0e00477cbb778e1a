package control

import "github.com/onairfm/onair"

// Answers to a source login (AuthStreamer). Each is the same value every
// time, so a failed login says nothing about which half was wrong.
var (
	// ErrBadStreamer is an unknown streamer name or a wrong password.
	ErrBadStreamer = onair.Errorf(onair.EUnauthorized, "invalid streamer name or password")
	// ErrOtherStation is a streamer whose credentials are right for another
	// station than the one it tried to broadcast on.
	ErrOtherStation = onair.Errorf(onair.EForbidden, "this streamer may not broadcast on this station")
)
