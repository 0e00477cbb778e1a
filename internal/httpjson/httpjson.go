// Package httpjson writes onair's JSON answers, so the REST API and the
// WebSocket upgrade refuse requests in the same shape:
// {"error": "human readable message"}.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// ErrorBody is every error answer.
type ErrorBody struct {
	Error string `json:"error"`
}

// Write answers v as JSON with status. The answers are not for caches.
func Write(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	// The status is out: a failed write means the client went away.
	_ = json.NewEncoder(w).Encode(v)
}

// Error answers {"error": msg} with status.
func Error(w http.ResponseWriter, status int, msg string) {
	Write(w, status, ErrorBody{Error: msg})
}
