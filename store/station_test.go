package store

import (
	"context"
	"testing"

	"github.com/onairfm/onair"
)

func TestCreateStation(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "Olga", onair.RoleOwner)
	st := &onair.Station{
		Slug: "jazz", Name: "Jazz FM", Description: "smooth", Genre: "jazz", OwnerID: owner.ID,
		Shuffle: true, Show: "Morning", Loop: false, Live: true, CurrentTrackID: 99,
	}
	if err := db.CreateStation(ctx, st); err != nil {
		t.Fatal(err)
	}
	if st.ID == 0 || st.CreatedAt.IsZero() || st.Owner != "Olga" {
		t.Fatalf("not filled: %+v", st)
	}
	if !st.Loop || st.Live || st.CurrentTrackID != 0 {
		t.Errorf("new station must start looping, off air, with no track: %+v", st)
	}
	got, err := db.StationBySlug(ctx, "jazz")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *st {
		t.Errorf("StationBySlug = %+v\nwant %+v", got, st)
	}
}

func TestCreateStationErrors(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	mustStation(t, db, "taken", "Taken", owner)
	for _, tc := range []struct {
		name string
		st   *onair.Station
		code onair.Code
	}{
		{"nil", nil, onair.EInvalid},
		{"no slug", &onair.Station{Name: "N", OwnerID: owner.ID}, onair.EInvalid},
		{"no name", &onair.Station{Slug: "s", Name: "  ", OwnerID: owner.ID}, onair.EInvalid},
		{"slug taken", &onair.Station{Slug: "taken", Name: "Other", OwnerID: owner.ID}, onair.EConflict},
		{"no such owner", &onair.Station{Slug: "orphan", Name: "Orphan", OwnerID: owner.ID + 50}, onair.ENotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.CreateStation(ctx, tc.st)
			wantCode(t, err, tc.code)
			if tc.st != nil && tc.st.ID != 0 {
				t.Errorf("ID = %d after a failed create", tc.st.ID)
			}
		})
	}
	sts, err := db.Stations(ctx)
	if err != nil || len(sts) != 1 {
		t.Errorf("stations = %d, %v; want only the first", len(sts), err)
	}
}

func TestStationBySlugNotFound(t *testing.T) {
	db := newDB(t)
	_, err := db.StationBySlug(context.Background(), "nope")
	wantCode(t, err, onair.ENotFound)
}

func TestStationListings(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	a := mustUser(t, db, "anna", onair.RoleOwner)
	b := mustUser(t, db, "ben", onair.RoleOwner)
	mustStation(t, db, "z", "zulu", a)
	mustStation(t, db, "y", "Alpha", b)
	mustStation(t, db, "x", "mike", a)

	slugs := func(sts []*onair.Station, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, st := range sts {
			out = append(out, st.Slug)
		}
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s = %v, want %v", what, got, want)
			}
		}
	}
	check("Stations", slugs(db.Stations(ctx)), []string{"y", "x", "z"}) // Alpha, mike, zulu
	check("StationsByOwner(anna)", slugs(db.StationsByOwner(ctx, a.ID)), []string{"x", "z"})
	check("StationsByOwner(nobody)", slugs(db.StationsByOwner(ctx, 999)), []string{})
	check("LiveStations none", slugs(db.LiveStations(ctx)), []string{})

	if err := db.SetLive(ctx, "z", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLive(ctx, "y", true); err != nil {
		t.Fatal(err)
	}
	check("LiveStations", slugs(db.LiveStations(ctx)), []string{"y", "z"})
	if err := db.SetLive(ctx, "y", false); err != nil {
		t.Fatal(err)
	}
	check("LiveStations after stop", slugs(db.LiveStations(ctx)), []string{"z"})
	wantCode(t, db.SetLive(ctx, "missing", true), onair.ENotFound)

	sts, err := db.Stations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sts[0].Owner != "ben" || sts[1].Owner != "anna" {
		t.Errorf("owners not joined: %q %q", sts[0].Owner, sts[1].Owner)
	}
}

func TestUpdateStation(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "rock", "Rock", owner)

	st.Name, st.Description, st.Genre = "Rock 24/7", "loud", "rock"
	st.Shuffle, st.Loop, st.Show = true, false, "Evening"
	st.Live = true // not an UpdateStation field
	if err := db.UpdateStation(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := db.StationBySlug(ctx, "rock")
	if err != nil {
		t.Fatal(err)
	}
	st.Live = false
	if *got != *st {
		t.Errorf("after update = %+v\nwant %+v", got, st)
	}

	// By slug when the ID is unknown to the caller.
	if err := db.UpdateStation(ctx, &onair.Station{Slug: "rock", Name: "By Slug", Loop: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.StationBySlug(ctx, "rock"); got.Name != "By Slug" || !got.Loop {
		t.Errorf("update by slug: %+v", got)
	}

	wantCode(t, db.UpdateStation(ctx, &onair.Station{ID: st.ID + 9, Name: "X"}), onair.ENotFound)
	wantCode(t, db.UpdateStation(ctx, &onair.Station{Slug: "none", Name: "X"}), onair.ENotFound)
	wantCode(t, db.UpdateStation(ctx, &onair.Station{ID: st.ID, Name: ""}), onair.EInvalid)
	wantCode(t, db.UpdateStation(ctx, nil), onair.EInvalid)
}

func TestSetCurrentTrack(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	a := mustStation(t, db, "a", "A", owner)
	b := mustStation(t, db, "b", "B", owner)
	ta := mustTrack(t, db, a.ID, "one")
	ta2 := mustTrack(t, db, a.ID, "two")
	tb := mustTrack(t, db, b.ID, "other")

	current := func() int64 {
		t.Helper()
		st, err := db.StationBySlug(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		return st.CurrentTrackID
	}
	if err := db.SetCurrentTrack(ctx, "a", ta.ID); err != nil {
		t.Fatal(err)
	}
	if got := current(); got != ta.ID {
		t.Fatalf("current = %d, want %d", got, ta.ID)
	}
	wantCode(t, db.SetCurrentTrack(ctx, "a", tb.ID), onair.ENotFound) // another station's track
	wantCode(t, db.SetCurrentTrack(ctx, "a", 12345), onair.ENotFound)
	wantCode(t, db.SetCurrentTrack(ctx, "zz", ta.ID), onair.ENotFound)
	if got := current(); got != ta.ID {
		t.Fatalf("a failed SetCurrentTrack changed it to %d", got)
	}
	if err := db.SetCurrentTrack(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if got := current(); got != 0 {
		t.Fatalf("current = %d after clearing", got)
	}

	// Deleting the current track clears it rather than leaving a dangling id.
	if err := db.SetCurrentTrack(ctx, "a", ta2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteTrack(ctx, a.ID, ta2.ID); err != nil {
		t.Fatal(err)
	}
	if got := current(); got != 0 {
		t.Fatalf("current = %d after its track was deleted", got)
	}
}

func TestLikes(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	mustStation(t, db, "pop", "Pop", owner)
	if n, err := db.Likes(ctx, "pop"); err != nil || n != 0 {
		t.Fatalf("Likes = %d, %v; want 0", n, err)
	}
	for want := int64(1); want <= 3; want++ {
		n, err := db.AddLike(ctx, "pop")
		if err != nil || n != want {
			t.Fatalf("AddLike = %d, %v; want %d", n, err, want)
		}
	}
	if n, err := db.Likes(ctx, "pop"); err != nil || n != 3 {
		t.Fatalf("Likes = %d, %v; want 3", n, err)
	}
	// The station row carries them too, so a listing needs no query each.
	all, err := db.Stations(ctx)
	if err != nil || len(all) != 1 || all[0].Likes != 3 {
		t.Fatalf("Stations: %v, %v; want pop with 3 likes", all, err)
	}
	if st, err := db.StationBySlug(ctx, "pop"); err != nil || st.Likes != 3 {
		t.Fatalf("StationBySlug: %+v, %v; want 3 likes", st, err)
	}
	_, err = db.AddLike(ctx, "nope")
	wantCode(t, err, onair.ENotFound)
	_, err = db.Likes(ctx, "nope")
	wantCode(t, err, onair.ENotFound)
}

func TestDeleteStationCascades(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	gone := mustStation(t, db, "gone", "Gone", owner)
	kept := mustStation(t, db, "kept", "Kept", owner)
	t1 := mustTrack(t, db, gone.ID, "one")
	t2 := mustTrack(t, db, gone.ID, "two")
	tk := mustTrack(t, db, kept.ID, "stay")
	if err := db.SetCurrentTrack(ctx, "gone", t2.ID); err != nil {
		t.Fatal(err)
	}

	deleted, err := db.DeleteStation(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 2 || deleted[0] != t1 || deleted[1] != t2 {
		t.Fatalf("deleted tracks = %+v, want %+v and %+v", deleted, t1, t2)
	}
	_, err = db.StationBySlug(ctx, "gone")
	wantCode(t, err, onair.ENotFound)
	for _, id := range []int64{t1.ID, t2.ID} {
		_, err := db.TrackByID(ctx, id)
		wantCode(t, err, onair.ENotFound)
	}
	if _, err := db.TrackByID(ctx, tk.ID); err != nil {
		t.Errorf("other station's track went too: %v", err)
	}
	_, err = db.DeleteStation(ctx, "gone")
	wantCode(t, err, onair.ENotFound)

	// The slug is free again.
	mustStation(t, db, "gone", "Back", owner)
}
