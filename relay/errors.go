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
	// ErrReplica is returned for playout commands to a replica station,
	// whose clock runs on another node.
	ErrReplica = onair.Errorf(onair.EConflict, "station is played by another node")
	// ErrNotReplica is returned for feeding a station played here.
	ErrNotReplica = errors.New("relay: station is not a replica")
	// ErrBadChunk is returned for a chunk that breaks a mount's rules.
	ErrBadChunk = errors.New("relay: bad chunk")
	// ErrClosed is returned after the relay was closed.
	ErrClosed = errors.New("relay: closed")
)
