package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/httpjson"
)

// maxJSONBody is the largest JSON request body read.
const maxJSONBody = 1 << 20

// statusOf is the HTTP status of an onair error code: the one place where
// codes become statuses.
func statusOf(code onair.Code) int {
	switch code {
	case onair.EInvalid:
		return http.StatusBadRequest
	case onair.EUnauthorized:
		return http.StatusUnauthorized
	case onair.EForbidden:
		return http.StatusForbidden
	case onair.ENotFound:
		return http.StatusNotFound
	case onair.EConflict:
		return http.StatusConflict
	case onair.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case onair.EUnsupported:
		return http.StatusUnsupportedMediaType
	case onair.EUnprocessable:
		return http.StatusUnprocessableEntity
	case onair.ERateLimited:
		return http.StatusTooManyRequests
	case onair.ENoSpace:
		return http.StatusInsufficientStorage
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is every error answer: {"error": "..."}.
type errorBody = httpjson.ErrorBody

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) { httpjson.Write(w, status, v) }

// writeError answers err as {"error"} with the status of its code. An
// internal error is logged in full; the client sees a generic message, as
// its text may hold paths or SQL.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	if errors.As(err, &se) {
		writeJSON(w, se.status, errorBody{Error: se.msg})
		return
	}
	status := s.errorStatus(r, err)
	writeJSON(w, status, errorBody{Error: onair.ErrorMessage(err)})
}

// errorStatus is err's status, logging it when it is internal.
func (s *Server) errorStatus(r *http.Request, err error) int {
	code := onair.ErrorCode(err)
	if code == onair.EInternal {
		s.logInternal(r, err)
	}
	return statusOf(code)
}

// logInternal logs an error the client is not shown.
func (s *Server) logInternal(r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client left; nobody will read the answer.
		s.logger().Debug("request cancelled", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	s.logger().Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
}

// statusError is an error of the edge itself that no onair code covers.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return fmt.Sprintf("web: %d: %s", e.status, e.msg) }

// Errors the edge itself gives.
var (
	errNoRoute = onair.Errorf(onair.ENotFound, "no such API route")
	errNoPage  = onair.Errorf(onair.ENotFound, "page not found")
	errNoLogin = onair.Errorf(onair.EUnauthorized, "log in first")
	errMethod  = &statusError{http.StatusMethodNotAllowed, "method not allowed"}
)

// decodeJSON reads a JSON object of at most maxJSONBody bytes into v.
// Unknown fields are allowed and the content type is not checked, so curl
// without -H works. With optional, an empty body leaves v as it is.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		if optional {
			return nil
		}
		return onair.Errorf(onair.EInvalid, "invalid JSON: the body is empty, expected an object")
	}
	if err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return onair.Errorf(onair.EInvalid, "invalid JSON: unexpected data after the object")
	}
	return nil
}

// jsonError explains a decoding error in JSON's terms, not Go's.
func jsonError(err error) error {
	var (
		mbe    *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return onair.Errorf(onair.ETooLarge, "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &syntax):
		return onair.Errorf(onair.EInvalid, "invalid JSON: %s (at byte %d)",
			strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return onair.Errorf(onair.EInvalid, "invalid JSON: unexpected end of input")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return onair.Errorf(onair.EInvalid, "invalid JSON: expected %s, got %s", jsonType(typ.Type), typ.Value)
		}
		return onair.Errorf(onair.EInvalid, "invalid JSON: %q must be %s, got %s", typ.Field, jsonType(typ.Type), typ.Value)
	default:
		return onair.Errorf(onair.EInvalid, "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonType names the JSON type that decodes into t.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return fmt.Sprintf("a %s", t.Kind())
	}
}
