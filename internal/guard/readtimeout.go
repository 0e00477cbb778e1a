package guard

import (
	"io"
	"net/http"
	"time"
)

// bodyDeadline gives every read of a request body ReadTimeout: a client
// that stops sending for that long is cut off, while a slow but steady
// upload is never cut, since each read renews the deadline. (A server-wide
// http.Server.ReadTimeout would bound the whole request, so a large upload
// on a slow line would fail; headers are bounded by ReadHeaderTimeout.)
func (g *Guard) bodyDeadline(next http.Handler) http.Handler {
	if g.ReadTimeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineBody{rc: r.Body, ctl: http.NewResponseController(w), timeout: g.ReadTimeout}
		}
		next.ServeHTTP(w, r)
	})
}

type deadlineBody struct {
	rc      io.ReadCloser
	ctl     *http.ResponseController
	timeout time.Duration
	done    bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.rc.Read(p)
	}
	// Where the connection cannot take deadlines (HTTP/2 in tests),
	// reads go on unbounded rather than fail.
	_ = b.ctl.SetReadDeadline(time.Now().Add(b.timeout))
	n, err := b.rc.Read(p)
	if err != nil {
		// Body read to its end (or failed): lift the deadline, so the
		// server's own background read of the idle connection, and a
		// handler still working after the body, are not cut off by it.
		b.done = true
		_ = b.ctl.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.rc.Close() }
