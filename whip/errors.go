package whip

import (
	"errors"

	"github.com/onairfm/onair"
)

var (
	// ErrBadOffer is returned for a body that is not an SDP offer.
	ErrBadOffer = onair.Errorf(onair.EInvalid, "the body is not an SDP offer")
	// ErrNoAudio is returned for an offer that sends no audio: none at
	// all, only video, or audio the publisher would only receive.
	ErrNoAudio = onair.Errorf(onair.EInvalid, "the offer sends no audio track")
	// ErrTwoAudio is returned for an offer with more than one audio
	// track: a station has one live source.
	ErrTwoAudio = onair.Errorf(onair.EInvalid, "the offer sends more than one audio track")
	// ErrCodec is returned for an offer whose audio is not Opus.
	ErrCodec = onair.Errorf(onair.EUnsupported, "the offer's audio is not Opus, the only codec taken")
	// ErrNoSession is returned for a session id that is not (or no longer)
	// live on the station.
	ErrNoSession = onair.Errorf(onair.ENotFound, "no such WHIP session")
	// ErrBusy is returned when the station already has a live source.
	ErrBusy = onair.Errorf(onair.EConflict, "another source is live on this station")
	// ErrNotOnAir is returned when the station does not play: a source
	// takes the air from a running station.
	ErrNotOnAir = onair.Errorf(onair.EConflict, "the station is not on air; start it before going live")
	// ErrClosed is returned after the server was closed.
	ErrClosed = errors.New("whip: closed")
)
