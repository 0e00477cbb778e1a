package onair

import (
	"errors"
	"fmt"
)

// Code classifies an error for the edges that must report it: HTTP statuses
// and the WebSocket error event. Packages wrap errors freely; only the edge
// turns a Code into a status.
type Code string

// Error codes. The first six are also the WebSocket error codes of the
// contract; the rest map to more specific HTTP statuses.
const (
	EInvalid       Code = "bad_request"
	EUnauthorized  Code = "unauthorized"
	EForbidden     Code = "forbidden"
	ENotFound      Code = "not_found"
	ERateLimited   Code = "rate_limited"
	EInternal      Code = "internal"
	EConflict      Code = "conflict"
	ETooLarge      Code = "too_large"
	EUnsupported   Code = "unsupported_media_type"
	EUnprocessable Code = "unprocessable"
	// ENoSpace is a storage quota reached (HTTP 507).
	ENoSpace Code = "insufficient_storage"
)

// Error is an error with a Code and a message fit for the user.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("onair: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted, user-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-facing message of err. Internal errors are
// not shown to users: their text may hold paths or SQL.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
