package configs

import "errors"

var (
	// ErrInvalid wraps every validation problem, so cmd can tell a bad
	// configuration (exit with a usage message) from an unreadable file.
	ErrInvalid = errors.New("invalid config")
	// ErrFlagsNotParsed means Load got a FlagSet that cmd has not parsed:
	// flag values would silently be ignored.
	ErrFlagsNotParsed = errors.New("flags not parsed")
)
