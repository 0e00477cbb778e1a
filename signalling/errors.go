package signalling

import "errors"

// Sentinel errors of the hub's life cycle.
var (
	// ErrStarted is returned by Start on a hub that already runs.
	ErrStarted = errors.New("signalling: hub already started")
	// ErrClosed is returned by Start on a closed hub.
	ErrClosed = errors.New("signalling: hub closed")
	// ErrBadPeerMessage is returned for a message from another node of
	// a cluster that breaks the rules a client's would be held to.
	ErrBadPeerMessage = errors.New("signalling: bad message from a peer node")
)
