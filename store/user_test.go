package store

import (
	"context"
	"strings"
	"testing"

	"github.com/onairfm/onair"
)

func TestCreateUserAndLookups(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, "Alice", "$2a$hash", onair.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Username != "Alice" || u.Role != onair.RoleOwner || u.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", u)
	}
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		got, hash, err := db.UserByUsername(ctx, name)
		if err != nil {
			t.Fatalf("UserByUsername(%q): %v", name, err)
		}
		if *got != *u || hash != "$2a$hash" {
			t.Errorf("UserByUsername(%q) = %+v, %q; want %+v", name, got, hash, u)
		}
	}
	got, err := db.UserByID(ctx, u.ID)
	if err != nil || *got != *u {
		t.Errorf("UserByID = %+v, %v; want %+v", got, err, u)
	}
}

func TestUserNotFound(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	_, _, err := db.UserByUsername(ctx, "nobody")
	wantCode(t, err, onair.ENotFound)
	_, err = db.UserByID(ctx, 42)
	wantCode(t, err, onair.ENotFound)
}

func TestCreateUserConflictIgnoresCase(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	mustUser(t, db, "bob", onair.RoleListener)
	for _, name := range []string{"bob", "BOB", "Bob"} {
		_, err := db.CreateUser(ctx, name, "h", onair.RoleOwner)
		wantCode(t, err, onair.EConflict)
		if !strings.Contains(onair.ErrorMessage(err), "taken") {
			t.Errorf("message %q does not say the name is taken", onair.ErrorMessage(err))
		}
	}
}

func TestCreateUserInvalid(t *testing.T) {
	db := newDB(t)
	for _, tc := range []struct {
		name, user, hash string
		role             onair.Role
	}{
		{"no name", "", "h", onair.RoleOwner},
		{"no hash", "carol", "", onair.RoleOwner},
		{"no role", "carol", "h", ""},
		{"unknown role", "carol", "h", "root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.CreateUser(context.Background(), tc.user, tc.hash, tc.role)
			wantCode(t, err, onair.EInvalid)
		})
	}
	if _, _, err := db.UserByUsername(context.Background(), "carol"); onair.ErrorCode(err) != onair.ENotFound {
		t.Errorf("an invalid user was stored: %v", err)
	}
}

func TestCountAdmins(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	count := func() int {
		t.Helper()
		n, err := db.CountAdmins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("empty database has %d admins", n)
	}
	mustUser(t, db, "owner", onair.RoleOwner)
	mustUser(t, db, "listener", onair.RoleListener)
	if n := count(); n != 0 {
		t.Fatalf("%d admins, want 0", n)
	}
	mustUser(t, db, "root1", onair.RoleAdmin)
	mustUser(t, db, "root2", onair.RoleAdmin)
	if n := count(); n != 2 {
		t.Fatalf("%d admins, want 2", n)
	}
}
