package rtc

import (
	"errors"

	"github.com/onairfm/onair"
)

// ErrNotLive is returned for a peer of a station that has no open track:
// it is not on air (or not yet, or no longer). It reads as the relay's
// error of the same name.
var ErrNotLive = onair.Errorf(onair.ENotFound, "station is not live")

// Errors of the lite transport's DTLS handshake and set-up.
var (
	errNoPeerCertificate   = errors.New("rtc: the browser sent no certificate")
	errFingerprintMismatch = errors.New("rtc: the browser's certificate does not match its offer's fingerprint")
	errNoSRTPProfile       = errors.New("rtc: no SRTP protection profile agreed")
	errNoAddress           = errors.New("rtc: no IPv4 address to advertise to browsers; set webrtc.public_ips")
)
