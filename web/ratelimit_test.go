package web

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestIPLimiter(t *testing.T) {
	l := newIPLimiter(authRate, authBurst)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range authBurst {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, wait := l.allow("a", now)
	if ok || wait <= 0 || wait > 6*time.Second {
		t.Fatalf("attempt past the burst: ok=%v wait=%v, want refused for about 6 s", ok, wait)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Fatal("another client was refused")
	}
	// A refused attempt does not use up a token.
	if ok, _ := l.allow("a", now.Add(wait)); !ok {
		t.Fatal("refused after waiting the time given")
	}
}

func TestIPLimiterForgetsIdleClients(t *testing.T) {
	l := newIPLimiter(authRate, authBurst)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
	}
	if n := l.size(); n != 1000 {
		t.Fatalf("%d buckets, want 1000", n)
	}
	// Half a refill later the buckets are not full yet: they stay.
	l.allow("busy", now.Add(l.refill/2))
	if n := l.size(); n != 1001 {
		t.Fatalf("%d buckets after half a refill, want 1001", n)
	}
	// A full refill after their last use they are dropped; the busy one,
	// used since, stays.
	l.allow("late", now.Add(l.refill))
	if n := l.size(); n != 2 {
		t.Fatalf("%d buckets after a full refill, want 2 (busy, late)", n)
	}
}

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
