package signalling

import (
	"sync"
	"testing"

	"github.com/onairfm/onair"
)

func strp(s string) *string { return &s }

func TestOwnerEvents(t *testing.T) {
	type call struct {
		op, user, slug string
		track          int64
		md             onair.MetadataUpdate
	}
	var mu sync.Mutex
	var calls []call
	record := func(c call, err error) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c)
		return err
	}
	// The controller refuses station "theirs" and reports a conflict on
	// "busy", as the REST twins would.
	refuse := func(slug string) error {
		switch slug {
		case "theirs":
			return onair.Errorf(onair.EForbidden, "not your station")
		case "busy":
			return onair.Errorf(onair.EConflict, "already live")
		case "gone":
			return onair.Errorf(onair.ENotFound, "no such station")
		}
		return nil
	}
	env := newEnv(t, func(h *Hub) {
		h.Control = fakeControl{
			start: func(u *onair.User, slug string, track int64) error {
				return record(call{op: "start", user: u.Username, slug: slug, track: track}, refuse(slug))
			},
			stop: func(u *onair.User, slug string) error {
				return record(call{op: "stop", user: u.Username, slug: slug}, refuse(slug))
			},
			meta: func(u *onair.User, slug string, md onair.MetadataUpdate) error {
				return record(call{op: "meta", user: u.Username, slug: slug, md: md}, refuse(slug))
			},
		}
	})
	anon := env.dial(t, nil)
	owner := env.dialAs(t, "olivia-token")

	tests := []struct {
		name     string
		c        *client
		event    string
		data     map[string]any
		wantCode onair.Code // "" for success
		want     *call
	}{
		{"anonymous start", anon, evStart, map[string]any{"station": "mine"}, onair.EUnauthorized, nil},
		{"anonymous stop", anon, evStop, map[string]any{"station": "mine"}, onair.EUnauthorized, nil},
		{"anonymous metadata", anon, evUpdateMetadata, map[string]any{"station": "mine", "show": "x"}, onair.EUnauthorized, nil},
		{"start", owner, evStart, map[string]any{"station": "mine"}, "", &call{op: "start", user: "olivia", slug: "mine"}},
		{"start a track", owner, evStart, map[string]any{"station": "mine", "track_id": 12}, "", &call{op: "start", user: "olivia", slug: "mine", track: 12}},
		{"start null track", owner, evStart, map[string]any{"station": "mine", "track_id": nil}, "", &call{op: "start", user: "olivia", slug: "mine"}},
		{"stop", owner, evStop, map[string]any{"station": "mine"}, "", &call{op: "stop", user: "olivia", slug: "mine"}},
		{"metadata", owner, evUpdateMetadata, map[string]any{"station": "mine", "title": "T", "show": ""}, "",
			&call{op: "meta", user: "olivia", slug: "mine", md: onair.MetadataUpdate{Title: strp("T"), Show: strp("")}}},
		{"forbidden", owner, evStop, map[string]any{"station": "theirs"}, onair.EForbidden, &call{op: "stop", user: "olivia", slug: "theirs"}},
		{"not found", owner, evStart, map[string]any{"station": "gone"}, onair.ENotFound, &call{op: "start", user: "olivia", slug: "gone"}},
		{"conflict is bad_request", owner, evStart, map[string]any{"station": "busy"}, onair.EInvalid, &call{op: "start", user: "olivia", slug: "busy"}},
		{"bad track", owner, evStart, map[string]any{"station": "mine", "track_id": -1}, onair.EInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			calls = nil
			mu.Unlock()
			tt.c.send(tt.event, tt.data, "r")
			if tt.wantCode != "" {
				tt.c.expectError(tt.wantCode, "r")
			} else if m := tt.c.expect(evAck); m.Ref != "r" {
				t.Errorf("ack ref %q", m.Ref)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.want == nil {
				if len(calls) != 0 {
					t.Errorf("controller called: %+v", calls)
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("controller calls %+v, want one", calls)
			}
			got := calls[0]
			if got.op != tt.want.op || got.user != tt.want.user || got.slug != tt.want.slug || got.track != tt.want.track ||
				!sameStr(got.md.Title, tt.want.md.Title) || !sameStr(got.md.Artist, tt.want.md.Artist) || !sameStr(got.md.Show, tt.want.md.Show) {
				t.Errorf("call %+v, want %+v", got, *tt.want)
			}
		})
	}
	// Without a ref a success is silent; the next request proves nothing
	// was queued.
	owner.send(evStop, map[string]any{"station": "mine"}, "")
	owner.roundTrip("after")
}

func sameStr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
