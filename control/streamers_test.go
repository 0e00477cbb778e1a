package control

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
)

func TestStreamers(t *testing.T) {
	e := newEnv(t)
	e.svc.Auth = &auth.Service{Cost: bcrypt.MinCost}
	ctx := context.Background()
	slug := e.station.Slug
	other, err := e.svc.CreateStation(ctx, e.other, NewStation{Name: "Other FM"})
	if err != nil {
		t.Fatal(err)
	}

	// Who may manage them.
	for _, tc := range []struct {
		who  *onair.User
		code onair.Code
	}{
		{nil, onair.EUnauthorized},
		{e.listener, onair.EForbidden},
		{e.other, onair.EForbidden},
	} {
		_, err := e.svc.CreateStreamer(ctx, tc.who, slug, NewStreamer{Username: "deejay", Password: "password1"})
		wantCode(t, err, tc.code)
		_, err = e.svc.Streamers(ctx, tc.who, slug)
		wantCode(t, err, tc.code)
		wantCode(t, e.svc.DeleteStreamer(ctx, tc.who, slug, "deejay"), tc.code)
	}
	// What is refused.
	for _, in := range []NewStreamer{
		{Username: "deejay", Password: "short"},
		{Username: "x", Password: "password1"},
		{Username: "d j", Password: "password1"},
		{Username: "deejay", Password: "password1", DisplayName: strings.Repeat("é", 101)},
	} {
		_, err := e.svc.CreateStreamer(ctx, e.owner, slug, in)
		wantCode(t, err, onair.EInvalid)
	}

	dj, err := e.svc.CreateStreamer(ctx, e.owner, slug, NewStreamer{Username: "deejay", Password: "password1", DisplayName: " DJ\nNight "})
	if err != nil {
		t.Fatal(err)
	}
	if dj.Name() != "DJ Night" {
		t.Errorf("display name = %q, want the one line %q", dj.Name(), "DJ Night")
	}
	_, err = e.svc.CreateStreamer(ctx, e.admin, slug, NewStreamer{Username: "DeeJay", Password: "password2"})
	wantCode(t, err, onair.EConflict)
	if _, err := e.svc.CreateStreamer(ctx, e.other, other.Slug, NewStreamer{Username: "guest", Password: "password3"}); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.Streamers(ctx, e.admin, slug)
	if err != nil || len(list) != 1 || list[0].Username != "deejay" {
		t.Fatalf("Streamers = %+v, %v", list, err)
	}

	// Source logins.
	for _, tc := range []struct {
		slug, user, pw string
		want           error
		code           onair.Code
	}{
		{slug, "deejay", "password1", nil, ""},
		{slug, "DeeJay", "password1", nil, ""},
		{slug, "deejay", "password2", ErrBadStreamer, onair.EUnauthorized},
		{slug, "nobody", "password1", ErrBadStreamer, onair.EUnauthorized},
		{slug, "guest", "password3", ErrOtherStation, onair.EForbidden},
		{slug, "guest", "wrong-pass", ErrBadStreamer, onair.EUnauthorized},
		{"no-such", "deejay", "password1", nil, onair.ENotFound},
	} {
		got, err := e.svc.AuthStreamer(ctx, tc.slug, tc.user, tc.pw)
		switch {
		case tc.code == "" && (err != nil || got.Name() != "DJ Night"):
			t.Errorf("AuthStreamer(%s, %s) = %+v, %v", tc.slug, tc.user, got, err)
		case tc.code != "" && onair.ErrorCode(err) != tc.code:
			t.Errorf("AuthStreamer(%s, %s, %s): %v, want %s", tc.slug, tc.user, tc.pw, err, tc.code)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("AuthStreamer(%s, %s, %s): %v, want %v", tc.slug, tc.user, tc.pw, err, tc.want)
		}
	}

	if err := e.svc.DeleteStreamer(ctx, e.owner, slug, "deejay"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthStreamer(ctx, slug, "deejay", "password1")
	wantCode(t, err, onair.EUnauthorized)
	wantCode(t, e.svc.DeleteStreamer(ctx, e.owner, slug, "deejay"), onair.ENotFound)
}
