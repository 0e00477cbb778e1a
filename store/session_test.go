package store

import (
	"context"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

func TestSessionLifecycle(t *testing.T) {
	db := newDB(t)
	clk := testutil.NewClock(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
	db.Now = clk.Now
	ctx := context.Background()
	u := mustUser(t, db, "dana", onair.RoleListener)

	if err := db.CreateSession(ctx, "hash1", u.ID, clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := db.UserBySession(ctx, "hash1")
	if err != nil || got.ID != u.ID || got.Username != "dana" || got.Role != onair.RoleListener {
		t.Fatalf("UserBySession = %+v, %v; want %+v", got, err, u)
	}

	_, err = db.UserBySession(ctx, "other")
	wantCode(t, err, onair.ENotFound)

	clk.Add(time.Hour - time.Millisecond)
	if _, err := db.UserBySession(ctx, "hash1"); err != nil {
		t.Fatalf("session expired a millisecond early: %v", err)
	}
	clk.Add(time.Millisecond) // now == expiry: no longer valid
	_, err = db.UserBySession(ctx, "hash1")
	wantCode(t, err, onair.ENotFound)
}

func TestDeleteSession(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	u := mustUser(t, db, "erin", onair.RoleListener)
	if err := db.CreateSession(ctx, "h", u.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSession(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	_, err := db.UserBySession(ctx, "h")
	wantCode(t, err, onair.ENotFound)
	wantCode(t, db.DeleteSession(ctx, "h"), onair.ENotFound)
}

func TestDeleteExpiredSessions(t *testing.T) {
	db := newDB(t)
	clk := testutil.NewClock(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
	db.Now = clk.Now
	ctx := context.Background()
	u := mustUser(t, db, "fay", onair.RoleListener)
	for hash, ttl := range map[string]time.Duration{"old": time.Minute, "edge": time.Hour, "new": 2 * time.Hour} {
		if err := db.CreateSession(ctx, hash, u.ID, clk.Now().Add(ttl)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(time.Hour)
	if n, err := db.DeleteExpiredSessions(ctx); err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2 (old and edge)", n, err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT token_hash FROM sessions ORDER BY token_hash`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var left []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		left = append(left, h)
	}
	if len(left) != 1 || left[0] != "new" {
		t.Errorf("sessions left = %v, want [new]", left)
	}
}

func TestCreateSessionErrors(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	u := mustUser(t, db, "gus", onair.RoleListener)
	exp := time.Now().Add(time.Hour)
	wantCode(t, db.CreateSession(ctx, "", u.ID, exp), onair.EInvalid)
	wantCode(t, db.CreateSession(ctx, "h", u.ID+100, exp), onair.ENotFound)
	if err := db.CreateSession(ctx, "h", u.ID, exp); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.CreateSession(ctx, "h", u.ID, exp), onair.EConflict)
}
