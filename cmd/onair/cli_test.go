package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/testutil"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, nil, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "onair ") {
		t.Fatalf("version printed %q", out.String())
	}
}

func TestUserAdd(t *testing.T) {
	dir := t.TempDir()
	add := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"user", "add"}, args...), strings.NewReader(stdin), &out, []string{"ONAIR_DATA_DIR=" + dir})
		return out.String(), err
	}
	if out, err := add("carol-password\n", "carol", "--role", "owner"); err != nil || !strings.Contains(out, `added owner user "carol"`) {
		t.Fatalf("user add: %q, %v", out, err)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"x-password\n", []string{"dave", "--role", "superuser"}, "role"},
		{"", []string{"dave", "--role", "owner"}, "password"},
		{"short\n", []string{"dave", "--role", "owner"}, "password"},
		{"carol-password\n", []string{"carol", "--role", "owner"}, "taken"},
		{"x-password\n", nil, "usage"},
	} {
		if _, err := add(c.stdin, c.args...); err == nil || !strings.Contains(strings.ToLower(err.Error()), c.want) {
			t.Errorf("user add %v: %v, want an error about %s", c.args, err, c.want)
		}
	}

	// The new owner can log in to a server on that data directory.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--http.addr", ln.Addr().String()}, nil, &bytes.Buffer{}, []string{"ONAIR_DATA_DIR=" + dir, "ONAIR_WEBRTC_LOOPBACK_ONLY=true"})
	}()
	s := &server{t: t, URL: "http://" + ln.Addr().String()}
	testutil.Eventually(t, 10*time.Second, "the server", func() bool {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if tok := s.login("carol", "carol-password"); tok == "" {
		t.Fatal("no token")
	}
	// Cancelling the context is what SIGINT/SIGTERM do: a clean exit.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}
