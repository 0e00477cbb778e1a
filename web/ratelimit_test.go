package web

import (
	"net/http"
	"testing"
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
		if got := clientKey(r); got != c.want {
			t.Errorf("%s → %q, want %q", c.remote, got, c.want)
		}
	}
}
