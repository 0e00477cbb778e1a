package icy

import "errors"

// Errors of the Reader. Both are wrapped with the audio offset of the block.
var (
	// ErrTruncated means the stream ended inside a metadata block, or right
	// after its length byte.
	ErrTruncated = errors.New("icy: stream ended inside a metadata block")
	// ErrMalformed means a full metadata block holds no parsable
	// StreamTitle='...'; entry.
	ErrMalformed = errors.New("icy: malformed metadata block")
)
