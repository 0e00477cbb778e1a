package signalling

import (
	"context"
	"net/http"
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
