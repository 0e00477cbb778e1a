package relay

import (
	"errors"

	"github.com/onairfm/onair"
)

var (
	// ErrNotLive is returned for a station that is not on air.
	ErrNotLive = onair.Errorf(onair.ENotFound, "station is not live")
	// ErrNoTracks is returned when a station has nothing it can play.
	ErrNoTracks = onair.Errorf(onair.EInvalid, "station has no playable tracks")
	// ErrClosed is returned after the relay was closed.
	ErrClosed = errors.New("relay: closed")
)
