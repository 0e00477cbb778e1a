package store

import (
	"context"
	"testing"

	"github.com/onairfm/onair"
)

func TestStreamers(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "owner", onair.RoleOwner)
	a := mustStation(t, db, "a", "A", owner)
	b := mustStation(t, db, "b", "B", owner)

	s, err := db.CreateStreamer(ctx, a.ID, "dj", "DJ Night", "hash-a")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == 0 || s.StationID != a.ID || s.Name() != "DJ Night" || s.CreatedAt.IsZero() {
		t.Fatalf("created %+v", s)
	}
	// The same name on another station is another streamer.
	if _, err := db.CreateStreamer(ctx, b.ID, "DJ", "", "hash-b"); err != nil {
		t.Fatalf("same name on another station: %v", err)
	}
	_, err = db.CreateStreamer(ctx, a.ID, "Dj", "", "h")
	wantCode(t, err, onair.EConflict)
	_, err = db.CreateStreamer(ctx, 999, "x", "", "h")
	wantCode(t, err, onair.ENotFound)
	_, err = db.CreateStreamer(ctx, a.ID, "y", "", "")
	wantCode(t, err, onair.EInvalid)

	list, err := db.Streamers(ctx, a.ID)
	if err != nil || len(list) != 1 || list[0].Username != "dj" {
		t.Fatalf("Streamers(a) = %+v, %v", list, err)
	}
	named, err := db.StreamersNamed(ctx, b.ID, "dJ")
	if err != nil || len(named) != 2 || named[0].StationID != b.ID || named[0].PasswordHash != "hash-b" || named[1].PasswordHash != "hash-a" {
		t.Fatalf("StreamersNamed(b, dJ) = %+v, %v", named, err)
	}

	if err := db.DeleteStreamer(ctx, a.ID, "DJ"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteStreamer(ctx, a.ID, "dj"), onair.ENotFound)
	// A station's streamers go with it.
	if _, err := db.DeleteStation(ctx, b.Slug); err != nil {
		t.Fatal(err)
	}
	if named, _ := db.StreamersNamed(ctx, b.ID, "dj"); len(named) != 0 {
		t.Fatalf("streamers left after their station: %+v", named)
	}
}
