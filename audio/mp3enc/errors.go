package mp3enc

import "errors"

// Errors of New, for settings shine cannot encode.
var (
	ErrRate     = errors.New("mp3enc: unsupported sample rate")
	ErrBitrate  = errors.New("mp3enc: unsupported bitrate")
	ErrChannels = errors.New("mp3enc: unsupported channel count")
)

// ErrFraming means shine's output did not start with the frame header it
// was expected to: a bug here or in shine, never a property of the input.
var ErrFraming = errors.New("mp3enc: encoder output lost frame sync")

// ErrPartialFrame is returned for input that is not whole frames of the
// encoder's channels.
var ErrPartialFrame = errors.New("mp3enc: input is not whole frames")
