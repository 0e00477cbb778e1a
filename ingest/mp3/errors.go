package mp3

import "errors"

// Sentinel errors. Callers test them with errors.Is; the returned errors
// wrap them with the operation and the detail.
var (
	// ErrInvalidHeader: the 4 bytes are not a usable frame header (no sync
	// or a reserved value).
	ErrInvalidHeader = errors.New("invalid MPEG audio frame header")
	// ErrNoFrames: the data is not MPEG audio at all (WAV, PNG, text, empty).
	ErrNoFrames = errors.New("no MPEG audio frames found")
	// ErrNoAudio: the data looks like an MP3 (an ID3v2 tag, a frame header
	// at the start, or only a Xing/Info frame) but holds no complete audio
	// frame: typically a file cut short.
	ErrNoAudio = errors.New("no complete MPEG audio frame (truncated or damaged file)")
	// ErrLayer: MPEG layer I and II are valid audio but not MP3.
	ErrLayer = errors.New("only MPEG layer III (MP3) is supported")
	// ErrFreeFormat: bitrate index 0 gives no frame size to sync on.
	ErrFreeFormat = errors.New("free-format MP3 is not supported")
	// ErrMixedFormat: the version, layer or sample rate changes within one
	// file. A station needs one stable frame format per track.
	ErrMixedFormat = errors.New("MPEG version, layer or sample rate changes within the file")
)
