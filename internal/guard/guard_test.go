package guard

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"weird", "weird"},
	} {
		r := &http.Request{RemoteAddr: c.remote}
		if got := ClientKey(r); got != c.want {
			t.Errorf("%s → %q, want %q", c.remote, got, c.want)
		}
	}
}

// TestSlowBody: a client that sends headers and then a body one byte now
// and then is cut off after ReadTimeout without a byte; one that sends
// steadily, slower in total than ReadTimeout, is not.
func TestSlowBody(t *testing.T) {
	const timeout = 300 * time.Millisecond
	got := make(chan error, 4)
	g := &Guard{ReadTimeout: timeout}
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		got <- err
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	send := func(gaps []time.Duration) {
		c, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(len(gaps))+"\r\n\r\n")
		for _, g := range gaps {
			time.Sleep(g) // the client's pace is what is tested
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
		_, _ = io.ReadAll(c)
	}
	// Steady: 6 bytes 100 ms apart, 600 ms in all, twice the timeout.
	go send([]time.Duration{0, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond})
	if err := <-got; err != nil {
		t.Fatalf("steady body cut off: %v", err)
	}
	// Stalled: one byte, then nothing for far longer than the timeout.
	go send([]time.Duration{0, 20 * timeout})
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("stalled body read to the end")
		}
	case <-time.After(10 * timeout):
		t.Fatal("stalled body not cut off")
	}
}
