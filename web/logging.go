package web

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// logRequests logs one line per request: method, path, status, duration.
// A request whose connection was taken over (a stream listener, a
// WebSocket) is logged as hijacked, and an audio stream without its
// duration: that is listening time, not serving time.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		var rw http.ResponseWriter = rec
		if _, ok := w.(http.Hijacker); ok {
			// Only claim to hijack when the real writer can, so a handler
			// that falls back when it cannot (the relay on HTTP/2) still
			// does.
			rw = hijackRecorder{rec}
		}
		next.ServeHTTP(rw, r)
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("remote", r.RemoteAddr),
		}
		level := slog.LevelInfo
		switch {
		case rec.hijacked:
			attrs = append(attrs, slog.Bool("hijacked", true))
		case w.Header().Get("Content-Type") == "audio/mpeg":
			// A stream served without hijacking (HTTP/2): its duration is
			// how long someone listened.
			attrs = append(attrs, slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes))
		default:
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if status >= 500 {
				level = slog.LevelError
			}
			attrs = append(attrs, slog.Int("status", status),
				slog.Duration("duration", time.Since(start)), slog.Int64("bytes", rec.bytes))
		}
		s.logger().LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// recoverPanics keeps one bad request from taking the server down: a
// panic is logged and answered 500 when nothing was sent yet.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			s.logger().Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if rec, ok := w.(interface{ started() bool }); ok && rec.started() {
				return
			}
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// recorder notes what a handler answered, for the log.
type recorder struct {
	http.ResponseWriter
	status   int
	bytes    int64
	hijacked bool
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// Flush passes flushes on, for streaming answers.
func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer (deadlines).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) started() bool { return rec.status != 0 || rec.hijacked }

// hijackRecorder is a recorder over a writer that can be hijacked.
type hijackRecorder struct{ *recorder }

func (h hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("web: connection cannot be hijacked")
	}
	c, rw, err := hj.Hijack()
	if err == nil {
		h.hijacked = true
	}
	return c, rw, err
}
