package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair"
)

func TestAddTrackRoundTrip(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)
	tr := onair.Track{
		StationID: st.ID, Title: "Tone", Artist: "Gen", Album: "Tests",
		Duration: 8*time.Second + 26*time.Millisecond + 500*time.Microsecond,
		Bitrate:  128000, SampleRate: 44100, Channels: 2,
		Filename: "tone 440.mp3", Path: "ab/cd.mp3", Size: 128_456,
		Position: 77, // ignored: AddTrack appends
	}
	if err := db.AddTrack(ctx, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.ID == 0 || tr.Position != 0 || tr.CreatedAt.IsZero() {
		t.Fatalf("not filled: %+v", tr)
	}
	if tr.Duration != 8026*time.Millisecond {
		t.Errorf("Duration = %v, want it kept to the millisecond", tr.Duration)
	}
	got, err := db.TrackByID(ctx, tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != tr {
		t.Errorf("TrackByID = %+v\nwant %+v", got, tr)
	}
	_, err = db.TrackByID(ctx, tr.ID+1)
	wantCode(t, err, onair.ENotFound)
}

func TestAddTrackAppends(t *testing.T) {
	db := newDB(t)
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	a := mustStation(t, db, "a", "A", owner)
	b := mustStation(t, db, "b", "B", owner)
	for i, title := range []string{"one", "two", "three"} {
		if tr := mustTrack(t, db, a.ID, title); tr.Position != i {
			t.Errorf("%s at %d, want %d", title, tr.Position, i)
		}
	}
	if tr := mustTrack(t, db, b.ID, "first"); tr.Position != 0 {
		t.Errorf("first track of another station at %d, want 0", tr.Position)
	}
	assertOrder(t, db, a.ID, "one", "two", "three")
}

func TestAddTrackErrors(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)
	mustTrack(t, db, st.ID, "dup") // path "<id>-dup.mp3"
	dupPath := mustTrack(t, db, st.ID, "x").Path
	for _, tc := range []struct {
		name string
		tr   *onair.Track
		code onair.Code
	}{
		{"nil", nil, onair.EInvalid},
		{"no path", &onair.Track{StationID: st.ID}, onair.EInvalid},
		{"negative duration", &onair.Track{StationID: st.ID, Path: "n.mp3", Duration: -time.Second}, onair.EInvalid},
		{"no station", &onair.Track{StationID: st.ID + 7, Path: "o.mp3"}, onair.ENotFound},
		{"path taken", &onair.Track{StationID: st.ID, Path: dupPath}, onair.EConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.AddTrack(ctx, tc.tr)
			wantCode(t, err, tc.code)
			if tc.tr != nil && tc.tr.ID != 0 {
				t.Errorf("ID = %d after a failed add", tc.tr.ID)
			}
		})
	}
	assertOrder(t, db, st.ID, "dup", "x")
}

func TestTracksUnknownStation(t *testing.T) {
	db := newDB(t)
	_, err := db.Tracks(context.Background(), 404)
	wantCode(t, err, onair.ENotFound)
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "empty", "Empty", owner)
	ts, err := db.Tracks(context.Background(), st.ID)
	if err != nil || ts == nil || len(ts) != 0 {
		t.Errorf("Tracks of an empty station = %#v, %v; want an empty list", ts, err)
	}
}

func TestDeleteTrackCompacts(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)
	other := mustStation(t, db, "o", "O", owner)
	var ids []int64
	for _, title := range []string{"a", "b", "c", "d"} {
		ids = append(ids, mustTrack(t, db, st.ID, title).ID)
	}
	got, err := db.DeleteTrack(ctx, st.ID, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ids[1] || got.Title != "b" || got.Path == "" {
		t.Errorf("deleted = %+v, want track b", got)
	}
	assertOrder(t, db, st.ID, "a", "c", "d")

	_, err = db.DeleteTrack(ctx, st.ID, ids[1]) // already gone
	wantCode(t, err, onair.ENotFound)
	_, err = db.DeleteTrack(ctx, other.ID, ids[0]) // wrong station
	wantCode(t, err, onair.ENotFound)
	assertOrder(t, db, st.ID, "a", "c", "d")

	// Appending after a delete continues right after the last track.
	if tr := mustTrack(t, db, st.ID, "e"); tr.Position != 3 {
		t.Errorf("appended at %d, want 3", tr.Position)
	}
}

func TestSetOrder(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)
	other := mustStation(t, db, "o", "O", owner)
	a, b, c := mustTrack(t, db, st.ID, "a"), mustTrack(t, db, st.ID, "b"), mustTrack(t, db, st.ID, "c")
	foreign := mustTrack(t, db, other.ID, "foreign")

	if err := db.SetOrder(ctx, st.ID, []int64{c.ID, a.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	assertOrder(t, db, st.ID, "c", "a", "b")

	for _, tc := range []struct {
		name string
		ids  []int64
		want string // in the message
	}{
		{"unknown id", []int64{c.ID, a.ID, 9999}, "9999 is not on this station"},
		{"other station's id", []int64{c.ID, a.ID, b.ID, foreign.ID}, "is not on this station"},
		{"duplicate", []int64{c.ID, a.ID, a.ID}, "listed twice"},
		{"missing", []int64{c.ID, a.ID}, "missing"},
		{"empty", nil, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.SetOrder(ctx, st.ID, tc.ids)
			wantCode(t, err, onair.EInvalid)
			if msg := onair.ErrorMessage(err); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not contain %q", msg, tc.want)
			}
			assertOrder(t, db, st.ID, "c", "a", "b")
		})
	}
	wantCode(t, db.SetOrder(ctx, 999, nil), onair.ENotFound)

	// An empty station takes the empty order.
	empty := mustStation(t, db, "e", "E", owner)
	if err := db.SetOrder(ctx, empty.ID, []int64{}); err != nil {
		t.Errorf("empty order of an empty station: %v", err)
	}
}

// assertOrder checks the station's play order by title, and that positions
// run 0, 1, 2... without gaps.
func assertOrder(t *testing.T, db *DB, stationID int64, titles ...string) {
	t.Helper()
	ts, err := db.Tracks(context.Background(), stationID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, tr := range ts {
		got = append(got, tr.Title)
		if tr.Position != i {
			t.Errorf("track %q at position %d, want %d", tr.Title, tr.Position, i)
		}
	}
	if strings.Join(got, ",") != strings.Join(titles, ",") {
		t.Fatalf("order = %v, want %v", got, titles)
	}
}
