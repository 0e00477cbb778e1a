package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onairfm/onair"
)

func TestTrackSoundFieldsRoundTrip(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)

	plain := mustTrack(t, db, st.ID, "plain")
	if plain.Format != onair.FormatMP3 || plain.Kind != onair.KindMusic || plain.Analysis != nil || plain.ArtMIME != "" {
		t.Errorf("defaults: %+v", plain)
	}
	tr := onair.Track{
		StationID: st.ID, Title: "Jingle", Path: "j.flac", Duration: 5 * time.Second,
		Format: onair.FormatFLAC, Kind: onair.KindJingle, ArtMIME: "image/png",
		Analysis: &onair.Analysis{Loudness: -14.25, Peak: -0.5, CueIn: 120 * time.Millisecond, CueOut: 4800*time.Millisecond + 300*time.Microsecond},
	}
	if err := db.AddTrack(ctx, &tr); err != nil {
		t.Fatal(err)
	}
	got, err := db.TrackByID(ctx, tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Analysis == nil || *got.Analysis != *tr.Analysis {
		t.Fatalf("analysis = %+v, want %+v", got.Analysis, tr.Analysis)
	}
	got.Analysis, tr.Analysis = nil, nil
	if got != tr {
		t.Errorf("TrackByID = %+v\nwant %+v", got, tr)
	}
	bad := onair.Track{StationID: st.ID, Path: "k.mp3", Kind: "noise"}
	wantCode(t, db.AddTrack(ctx, &bad), onair.EInvalid)
}

func TestUpdateTrackAndAnalysis(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)
	other := mustStation(t, db, "o", "O", owner)
	a := mustTrack(t, db, st.ID, "a")
	b := mustTrack(t, db, st.ID, "b")

	pending, err := db.UnanalysedTracks(ctx)
	if err != nil || len(pending) != 2 {
		t.Fatalf("unanalysed = %v, %v; want both", pending, err)
	}
	an := onair.Analysis{Loudness: -20, Peak: -3, CueIn: 0, CueOut: 3 * time.Second}
	if err := db.SetTrackAnalysis(ctx, a.ID, an); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.SetTrackAnalysis(ctx, b.ID+100, an), onair.ENotFound)
	if pending, _ := db.UnanalysedTracks(ctx); len(pending) != 1 || pending[0].ID != b.ID {
		t.Fatalf("unanalysed after one analysis = %+v", pending)
	}

	// Kind, text and cue points; loudness stays as measured.
	a.Title, a.Artist, a.Kind = "New", "Someone", onair.KindJingle
	a.Analysis = &onair.Analysis{Loudness: 99, CueIn: 250 * time.Millisecond, CueOut: 2 * time.Second}
	if err := db.UpdateTrack(ctx, &a); err != nil {
		t.Fatal(err)
	}
	got, _ := db.TrackByID(ctx, a.ID)
	want := onair.Analysis{Loudness: -20, Peak: -3, CueIn: 250 * time.Millisecond, CueOut: 2 * time.Second}
	if got.Title != "New" || got.Artist != "Someone" || got.Kind != onair.KindJingle || got.Analysis == nil || *got.Analysis != want {
		t.Errorf("after update: %+v %+v", got, got.Analysis)
	}
	// Without analysis the cue columns are left alone: b stays unanalysed.
	b.Kind = onair.KindMusic
	if err := db.UpdateTrack(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.TrackByID(ctx, b.ID); got.Analysis != nil {
		t.Errorf("unanalysed track got analysis %+v", got.Analysis)
	}

	wrong := a
	wrong.StationID = other.ID
	wantCode(t, db.UpdateTrack(ctx, &wrong), onair.ENotFound)
	wrong = a
	wrong.Kind = "talk"
	wantCode(t, db.UpdateTrack(ctx, &wrong), onair.EInvalid)
	wantCode(t, db.UpdateTrack(ctx, nil), onair.EInvalid)
}

func TestStationAudio(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)

	def := mustStation(t, db, "d", "Defaults", owner)
	want := onair.AudioSettings{SampleRate: 44100, MP3Bitrate: 128000, Crossfade: 2 * time.Second,
		LoudnessEnabled: true, LoudnessTarget: -16}
	if def.Audio != want {
		t.Errorf("schema defaults filled back = %+v, want %+v", def.Audio, want)
	}
	if got, _ := db.StationBySlug(ctx, "d"); got.Audio != want {
		t.Errorf("stored defaults = %+v", got.Audio)
	}

	given := onair.AudioSettings{SampleRate: 48000, MP3Bitrate: 192000, Crossfade: 0, LoudnessTarget: -23, JingleEvery: 3}
	st := &onair.Station{Slug: "g", Name: "Given", OwnerID: owner.ID, Audio: given}
	if err := db.CreateStation(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.StationBySlug(ctx, "g"); got.Audio != given || st.Audio != given {
		t.Errorf("created with %+v, stored %+v", given, got.Audio)
	}

	// UpdateStation saves audio with the rest, and leaves it when zero.
	st.Audio.Crossfade, st.Audio.LoudnessEnabled = 4500*time.Millisecond, true
	if err := db.UpdateStation(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.StationBySlug(ctx, "g"); got.Audio != st.Audio {
		t.Errorf("after update %+v, want %+v", got.Audio, st.Audio)
	}
	kept := st.Audio
	if err := db.UpdateStation(ctx, &onair.Station{Slug: "g", Name: "Renamed", Loop: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.StationBySlug(ctx, "g"); got.Audio != kept || got.Name != "Renamed" {
		t.Errorf("zero audio changed the settings: %+v", got.Audio)
	}
}

func TestHistory(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)
	other := mustStation(t, db, "o", "O", owner)
	tr := mustTrack(t, db, st.ID, "song")
	t0 := time.UnixMilli(1_700_000_000_000)

	for i, e := range []onair.HistoryEntry{
		{TrackID: tr.ID, Title: "song", Artist: "A", StartedAt: t0},
		{TrackID: tr.ID, Title: "jingle", StartedAt: t0.Add(time.Minute), Source: onair.SourceJingle},
		{Title: "Live show", Artist: "DJ", StartedAt: t0.Add(2 * time.Minute), Source: onair.SourceLive},
	} {
		if err := db.AddHistory(ctx, "s", e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if err := db.AddHistory(ctx, "o", onair.HistoryEntry{Title: "elsewhere", StartedAt: t0, Source: onair.SourceLive}); err != nil {
		t.Fatal(err)
	}
	got, err := db.History(ctx, st.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []onair.HistoryEntry{
		{Title: "Live show", Artist: "DJ", StartedAt: t0.Add(2 * time.Minute), Source: onair.SourceLive},
		{TrackID: tr.ID, Title: "jingle", StartedAt: t0.Add(time.Minute), Source: onair.SourceJingle},
		{TrackID: tr.ID, Title: "song", Artist: "A", StartedAt: t0, Source: onair.SourcePlaylist},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history =\n%v\nwant\n%v", got, want)
	}
	if got, _ := db.History(ctx, st.ID, 1); len(got) != 1 || got[0].Title != "Live show" {
		t.Errorf("limit 1: %v", got)
	}
	if got, _ := db.History(ctx, other.ID, 10); len(got) != 1 {
		t.Errorf("other station: %v", got)
	}

	// A deleted track keeps its rows, without the id.
	if _, err := db.DeleteTrack(ctx, st.ID, tr.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.History(ctx, st.ID, 10); got[2].TrackID != 0 || got[2].Title != "song" {
		t.Errorf("after deleting the track: %v", got)
	}

	wantCode(t, db.AddHistory(ctx, "none", onair.HistoryEntry{StartedAt: t0}), onair.ENotFound)
	wantCode(t, db.AddHistory(ctx, "s", onair.HistoryEntry{StartedAt: t0, Source: "radio"}), onair.EInvalid)
}

func TestHistoryIsPruned(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "olga", onair.RoleOwner)
	st := mustStation(t, db, "s", "S", owner)
	t0 := time.UnixMilli(1_700_000_000_000)
	n := HistoryKeep + 5
	for i := range n {
		if err := db.AddHistory(ctx, "s", onair.HistoryEntry{Title: fmt.Sprint(i), StartedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.History(ctx, st.ID, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != HistoryKeep || got[0].Title != fmt.Sprint(n-1) || got[len(got)-1].Title != "5" {
		t.Fatalf("kept %d rows, newest %q, oldest %q", len(got), got[0].Title, got[len(got)-1].Title)
	}
}
