package mp3dec

import "errors"

// Errors returned by DecodeFrame, always wrapped with "mp3dec: " and the
// detail; test them with errors.Is.
var (
	// ErrHeader: the frame does not start with a valid MPEG audio Layer III
	// header. Nothing was decoded and the decoder state is unchanged.
	ErrHeader = errors.New("not an MPEG audio layer III frame header")
	// ErrFreeFormat: the frame is free format (bitrate index 0), which this
	// decoder does not support. Nothing was decoded.
	ErrFreeFormat = errors.New("free format is not supported")
	// ErrShortFrame: the frame is shorter than its header and side
	// information, or dst is shorter than 2*1152. Nothing was decoded.
	ErrShortFrame = errors.New("frame or destination too short")
	// ErrCorrupt: the frame's main data is inconsistent (a granule reads
	// past its end, an invalid Huffman table, too many values). The frame
	// was still decoded in full: the damaged granules are silent, the rest
	// is good, and n says how much of dst was written. The caller may play
	// the output and go on.
	ErrCorrupt = errors.New("corrupt main data")
)
