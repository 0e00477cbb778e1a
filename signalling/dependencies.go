package signalling

import (
	"context"

	"github.com/onairfm/onair"
)

// The hub's view of the rest of the server. Each interface is as small as
// the hub's need, so cmd can wire the store and the relay without either
// importing signalling, and tests can fake them with a few functions.

// authenticator turns a session token (cookie, bearer header or auth event)
// into its user. An unknown or expired token is an onair EUnauthorized
// error (ENotFound and EInvalid are read the same way).
type authenticator interface {
	UserByToken(ctx context.Context, token string) (*onair.User, error)
}

// controller runs an owner's request with the same authorisation and effect
// as its REST twin. Failures are *onair.Error values (EForbidden,
// ENotFound, ...); success shows itself through the events the relay
// publishes.
type controller interface {
	StartStation(ctx context.Context, u *onair.User, slug string, trackID int64) error
	StopStation(ctx context.Context, u *onair.User, slug string) error
	UpdateMetadata(ctx context.Context, u *onair.User, slug string, md onair.MetadataUpdate) error
}

// stationState tells what a client joining a station's room gets at once.
// An unknown station is an onair ENotFound error.
type stationState interface {
	StationState(ctx context.Context, slug string) (onair.StationStatus, error)
}

// peerFactory is the server's WebRTC side (package rtc, wired by cmd). It
// works on SDP strings so the hub never touches pion. The callbacks run on
// the WebRTC side's goroutines; the hub only queues their work. onClose
// tells that the WebRTC side closed the peer (station stopped, ICE failed)
// so the hub forgets it.
type peerFactory interface {
	NewPeer(ctx context.Context, station string, onCandidate func(onair.ICECandidate), onClose func()) (Peer, error)
}

// Peer is one listener's PeerConnection for one station.
type Peer interface {
	// Answer answers the first offer and any later ICE-restart offer on
	// the same PeerConnection.
	Answer(offerSDP string) (answerSDP string, err error)
	AddCandidate(c onair.ICECandidate) error
	Close() error
}

// likeCounter stores a station's likes.
type likeCounter interface {
	AddLike(ctx context.Context, slug string) (int64, error)
	Likes(ctx context.Context, slug string) (int64, error)
}
