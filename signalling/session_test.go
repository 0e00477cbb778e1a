package signalling

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/onairfm/onair"
)

func TestEndSessionClosesItsSockets(t *testing.T) {
	e := newEnv(t, nil)
	byHeader := e.dialAs(t, "alice-token")
	byCookie := e.dial(t, http.Header{"Cookie": {sessionCookie + "=alice-token"}})
	byEvent := e.dial(t, nil)
	byEvent.send(evAuth, map[string]string{"token": "alice-token"}, "a1")
	byEvent.expect(evAuth)
	other := e.dialAs(t, "olivia-token")
	anon := e.dial(t, nil)
	byHeader.roundTrip("r1")
	byCookie.roundTrip("r2")

	e.hub.EndSession("alice-token")
	for name, c := range map[string]*client{"header": byHeader, "cookie": byCookie, "auth event": byEvent} {
		if code := c.expectClosed(); code != closeSessionEnded {
			t.Errorf("%s socket closed with %d, want %d", name, code, closeSessionEnded)
		}
	}
	other.roundTrip("still-open")
	anon.roundTrip("anon-open")
}

// TestSessionEndedWhileASocketAuthenticates: a logout that lands after a
// socket's token was checked but before the socket is known to the hub
// (by header at the upgrade, or by an auth event) still closes it.
func TestSessionEndedWhileASocketAuthenticates(t *testing.T) {
	var e *testEnv
	var ended atomic.Bool
	e = newEnv(t, func(h *Hub) {
		a := defaultAuth()
		h.Auth = fakeAuth(func(ctx context.Context, token string) (*onair.User, error) {
			if token != "racing-token" {
				return a(ctx, token)
			}
			if ended.Load() {
				return nil, onair.Errorf(onair.EUnauthorized, "session ended")
			}
			// The logout: the token is dead from now on, and the hub is
			// told while this check's answer is still on its way.
			ended.Store(true)
			h.EndSession(token)
			return alice, nil
		})
	})
	byHeader := e.dialAs(t, "racing-token")
	if code := byHeader.expectClosed(); code != closeSessionEnded {
		t.Errorf("socket authenticated by header closed with %d, want %d", code, closeSessionEnded)
	}
	ended.Store(false)
	byEvent := e.dial(t, nil)
	byEvent.send(evAuth, map[string]string{"token": "racing-token"}, "a1")
	if code := byEvent.expectClosed(); code != closeSessionEnded {
		t.Errorf("socket authenticated by event closed with %d, want %d", code, closeSessionEnded)
	}
	other := e.dialAs(t, "alice-token")
	other.roundTrip("unaffected")
}

func TestEndUserKeepsOneSession(t *testing.T) {
	e := newEnv(t, func(h *Hub) {
		a := defaultAuth()
		h.Auth = fakeAuth(func(ctx context.Context, token string) (*onair.User, error) {
			if token == "alice-other" {
				return alice, nil
			}
			return a(ctx, token)
		})
	})
	keep := e.dialAs(t, "alice-token")
	drop := e.dialAs(t, "alice-other")
	e.hub.EndUser(alice.ID, "alice-token")
	if code := drop.expectClosed(); code != closeSessionEnded {
		t.Fatalf("closed with %d", code)
	}
	keep.roundTrip("kept")
	e.hub.EndUser(alice.ID, "")
	if code := keep.expectClosed(); code != closeSessionEnded {
		t.Fatalf("closed with %d", code)
	}
}
