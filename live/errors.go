package live

import "errors"

// Why a source is refused or dropped. Each names what the source did, for
// the log line that says why a DJ went off air.
var (
	// ErrUnsupported is a Content-Type or codec the server cannot decode.
	ErrUnsupported = errors.New("live: unsupported audio format")
	// ErrGarbage is a stream that stopped looking like its Content-Type:
	// no audio frame or Ogg page where one must be.
	ErrGarbage = errors.New("live: the source sent something that is not audio")
	// ErrFormatChange is a stream whose codec, rate or channels changed
	// mid-stream: the station's feed has one format.
	ErrFormatChange = errors.New("live: the source changed its audio format mid-stream")
	// ErrTooLarge is an Ogg packet (a header with a picture, say) past
	// maxPacket: memory per source stays bounded.
	ErrTooLarge = errors.New("live: Ogg packet too large")
	// ErrDecode is audio that the decoder refused.
	ErrDecode = errors.New("live: audio does not decode")
)
