package decode

import "errors"

// Sentinel errors. The returned errors wrap them with the file and the
// detail; callers test them with errors.Is.
var (
	// ErrUnknownFormat: the format is none of MP3, WAV and FLAC.
	ErrUnknownFormat = errors.New("not an MP3, WAV or FLAC file")
	// ErrUnsupported: the file is a known container holding an encoding
	// this package does not decode (float WAV, 8-bit PCM, ADPCM, MPEG
	// layer I or II, more than two channels...). The error is an
	// *UnsupportedError that names it.
	ErrUnsupported = errors.New("unsupported audio encoding")
	// ErrNoAudio: the file has the right container but no audio in it.
	ErrNoAudio = errors.New("no audio in the file")
	// ErrCorrupt: the file stops decoding before its end (damaged or cut
	// short), or a decoder failed on it.
	ErrCorrupt = errors.New("audio data is damaged or cut short")
	// ErrFormatChange: the sample rate or the channel count changes within
	// the file. A Stream has one format from its start to its end.
	ErrFormatChange = errors.New("sample rate or channels change within the file")
	// ErrSeek: a negative seek target.
	ErrSeek = errors.New("invalid seek position")
)

// UnsupportedError names an encoding the package does not decode, in words
// fit for the uploader: "WAV with 32-bit float samples".
type UnsupportedError struct {
	Encoding string
}

func (e *UnsupportedError) Error() string {
	return "decode: " + e.Encoding + ": " + ErrUnsupported.Error()
}

// Unwrap makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

func unsupported(encoding string) error { return &UnsupportedError{Encoding: encoding} }
