package rtc

import "github.com/onairfm/onair"

// ErrNotLive is returned for a peer of a station that has no open track:
// it is not on air (or not yet, or no longer). It reads as the relay's
// error of the same name.
var ErrNotLive = onair.Errorf(onair.ENotFound, "station is not live")
