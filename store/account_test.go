package store

import (
	"context"
	"testing"

	"github.com/onairfm/onair"
)

func TestDisableUserEndsSessions(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	u := mustUser(t, db, "gil", onair.RoleOwner)
	if err := db.CreateSession(ctx, "s1", u.ID, db.now().Add(3600e9)); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateUser(ctx, u.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	_, err := db.UserBySession(ctx, "s1")
	wantCode(t, err, onair.ENotFound)
	got, _, err := db.UserByUsername(ctx, "gil")
	if err != nil || !got.Disabled || got.Role != onair.RoleOwner {
		t.Fatalf("after disable: %+v, %v", got, err)
	}
	// A session made while disabled (a race with login) still does not count.
	if err := db.CreateSession(ctx, "s2", u.ID, db.now().Add(3600e9)); err != nil {
		t.Fatal(err)
	}
	_, err = db.UserBySession(ctx, "s2")
	wantCode(t, err, onair.ENotFound)
	if err := db.UpdateUser(ctx, u.ID, false, onair.RoleListener); err != nil {
		t.Fatal(err)
	}
	if got, err := db.UserBySession(ctx, "s2"); err != nil || got.Role != onair.RoleListener || got.Disabled {
		t.Fatalf("after enable: %+v, %v", got, err)
	}
	wantCode(t, db.UpdateUser(ctx, 9999, true, ""), onair.ENotFound)
	wantCode(t, db.UpdateUser(ctx, u.ID, false, "king"), onair.EInvalid)
}

func TestSetPasswordHashKeepsOneSession(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	u := mustUser(t, db, "hal", onair.RoleListener)
	for _, h := range []string{"a", "b", "c"} {
		if err := db.CreateSession(ctx, h, u.ID, db.now().Add(3600e9)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetPasswordHash(ctx, u.ID, "$2a$new", "b"); err != nil {
		t.Fatal(err)
	}
	for h, alive := range map[string]bool{"a": false, "b": true, "c": false} {
		_, err := db.UserBySession(ctx, h)
		if (err == nil) != alive {
			t.Errorf("session %s: err %v, want alive=%v", h, err, alive)
		}
	}
	if _, hash, _ := db.UserByUsername(ctx, "hal"); hash != "$2a$new" {
		t.Fatalf("hash = %q", hash)
	}
	wantCode(t, db.SetPasswordHash(ctx, 9999, "$2a$x", ""), onair.ENotFound)
}

func TestListAndDeleteUsers(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "ivy", onair.RoleOwner)
	lis := mustUser(t, db, "bob", onair.RoleListener)
	mustStation(t, db, "ivy-fm", "Ivy FM", owner)
	users, err := db.ListUsers(ctx)
	if err != nil || len(users) != 2 || users[0].Username != "bob" || users[1].Username != "ivy" {
		t.Fatalf("ListUsers = %+v, %v", users, err)
	}
	wantCode(t, db.DeleteUser(ctx, owner.ID), onair.EConflict)
	if err := db.CreateSession(ctx, "sb", lis.ID, db.now().Add(3600e9)); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, lis.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.UserBySession(ctx, "sb")
	wantCode(t, err, onair.ENotFound)
	wantCode(t, db.DeleteUser(ctx, lis.ID), onair.ENotFound)
}
