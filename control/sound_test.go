package control

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
)

func ptr[T any](v T) *T { return &v }

func TestNewStationsTakeTheAudioDefaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	want := onair.AudioSettings{SampleRate: 48000, MP3Bitrate: 192000, Crossfade: 3 * time.Second, LoudnessEnabled: true, LoudnessTarget: -14}
	e.svc.AudioDefaults = want
	st, err := e.svc.CreateStation(ctx, e.owner, NewStation{Name: "Loud FM"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.StationBySlug(ctx, st.Slug); got.Audio != want {
		t.Fatalf("audio %+v, want the defaults %+v", got.Audio, want)
	}
}

func TestUpdateStationAudio(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before := e.snapshot(t)

	for _, tc := range []struct {
		name string
		p    AudioPatch
	}{
		{"rate", AudioPatch{SampleRate: ptr(32000)}},
		{"bitrate", AudioPatch{MP3Bitrate: ptr(129000)}},
		{"crossfade", AudioPatch{CrossfadeMS: ptr(10001)}},
		{"target", AudioPatch{LoudnessTarget: ptr(-40.0)}},
		{"jingles", AudioPatch{JingleEvery: ptr(-1)}},
		{"one bad of two", AudioPatch{CrossfadeMS: ptr(1000), SampleRate: ptr(8000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.UpdateStation(ctx, e.owner, e.station.Slug, StationPatch{Audio: &tc.p})
			wantCode(t, err, onair.EInvalid)
		})
	}
	if after := e.snapshot(t); after.station != before.station {
		t.Fatalf("a refused patch changed the station: %+v", after.station)
	}
	_, err := e.svc.UpdateStation(ctx, e.other, e.station.Slug, StationPatch{Audio: &AudioPatch{CrossfadeMS: ptr(0)}})
	wantCode(t, err, onair.EForbidden)

	// A subset changes only itself, on and off air.
	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, 0); err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.UpdateStation(ctx, e.owner, e.station.Slug, StationPatch{Audio: &AudioPatch{CrossfadeMS: ptr(500), JingleEvery: ptr(4)}})
	if err != nil {
		t.Fatal(err)
	}
	want := before.station.Audio
	want.Crossfade, want.JingleEvery = 500*time.Millisecond, 4
	if st.Audio != want {
		t.Fatalf("audio %+v, want %+v", st.Audio, want)
	}
	if got, _ := e.db.StationBySlug(ctx, e.station.Slug); got.Audio != want {
		t.Fatalf("stored audio %+v, want %+v", got.Audio, want)
	}
}

// unanalysed adds a track row with no analysis, as tracks uploaded before
// analysis existed are; its file is never read.
func (e *env) unanalysed(t *testing.T, name string) onair.Track {
	t.Helper()
	tr := onair.Track{StationID: e.station.ID, Title: name, Path: name + ".mp3", Duration: 3 * time.Second}
	if err := e.db.AddTrack(context.Background(), &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

// analysed gives e's i-th track a known analysis.
func (e *env) analysed(t *testing.T, i int) onair.Track {
	t.Helper()
	tr := e.tracks[i]
	if err := e.db.SetTrackAnalysis(context.Background(), tr.ID, onair.Analysis{Loudness: -18, Peak: -2, CueOut: tr.Duration}); err != nil {
		t.Fatal(err)
	}
	got, err := e.db.TrackByID(context.Background(), tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPatchTrack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tr := e.analysed(t, 0)
	dur := tr.Duration
	ms := func(n int64) *time.Duration { return ptr(time.Duration(n) * time.Millisecond) }

	for _, tc := range []struct {
		name string
		p    TrackPatch
		code onair.Code
	}{
		{"empty", TrackPatch{}, onair.EInvalid},
		{"kind", TrackPatch{Kind: ptr(onair.TrackKind("talk"))}, onair.EInvalid},
		{"negative in", TrackPatch{CueIn: ms(-1)}, onair.EInvalid},
		{"out past the end", TrackPatch{CueOut: ptr(dur + time.Millisecond)}, onair.EInvalid},
		{"in after out", TrackPatch{CueIn: ms(2000), CueOut: ms(1000)}, onair.EInvalid},
		{"too short", TrackPatch{CueIn: ms(1000), CueOut: ms(1499)}, onair.EInvalid},
		{"empty title", TrackPatch{Title: ptr("  ")}, onair.EInvalid},
		{"long artist", TrackPatch{Artist: ptr(string(make([]rune, maxText+1)))}, onair.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.PatchTrack(ctx, e.owner, e.station.Slug, tr.ID, tc.p)
			wantCode(t, err, tc.code)
		})
	}
	if got, _ := e.db.TrackByID(ctx, tr.ID); got.Kind != tr.Kind || *got.Analysis != *tr.Analysis || got.Title != tr.Title {
		t.Fatalf("a refused patch changed the track: %+v", got)
	}
	_, err := e.svc.PatchTrack(ctx, e.other, e.station.Slug, tr.ID, TrackPatch{Kind: ptr(onair.KindJingle)})
	wantCode(t, err, onair.EForbidden)
	_, err = e.svc.PatchTrack(ctx, e.listener, e.station.Slug, tr.ID, TrackPatch{Kind: ptr(onair.KindJingle)})
	wantCode(t, err, onair.EForbidden)
	_, err = e.svc.PatchTrack(ctx, nil, e.station.Slug, tr.ID, TrackPatch{Kind: ptr(onair.KindJingle)})
	wantCode(t, err, onair.EUnauthorized)
	// Cue points need an analysis to start from.
	raw := e.unanalysed(t, "raw")
	_, err = e.svc.PatchTrack(ctx, e.owner, e.station.Slug, raw.ID, TrackPatch{CueIn: ms(100)})
	wantCode(t, err, onair.EConflict)
	// A track of another station is not found through this one.
	st2, _ := e.svc.CreateStation(ctx, e.owner, NewStation{Name: "Two"})
	_, err = e.svc.PatchTrack(ctx, e.owner, st2.Slug, tr.ID, TrackPatch{Kind: ptr(onair.KindJingle)})
	wantCode(t, err, onair.ENotFound)

	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, 0); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.PatchTrack(ctx, e.owner, e.station.Slug, tr.ID, TrackPatch{
		Kind: ptr(onair.KindJingle), CueIn: ms(250), CueOut: ms(1250), Title: ptr(" Station ID\n"), Artist: ptr("Us"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != onair.KindJingle || got.Analysis.CueIn != 250*time.Millisecond || got.Analysis.CueOut != 1250*time.Millisecond ||
		got.Title != "Station ID" || got.Artist != "Us" || got.Analysis.Loudness != -18 {
		t.Fatalf("after patch: %+v %+v", got, got.Analysis)
	}
	if !e.svc.Status(e.station.Slug).Live {
		t.Fatal("the station stopped after a track patch")
	}
}

func TestMixedFormatsAreAccepted(t *testing.T) {
	e := newEnv(t) // two 44.1 kHz stereo tracks
	for _, name := range []string{"tone660-48k.mp3", "tone550-mono.mp3", "tone700-mpeg2.mp3"} {
		if _, err := e.svc.AddTrack(context.Background(), e.station, name, bytes.NewReader(audiotest.Fixture(t, name))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// waitHistory polls the store until the station has n history rows.
func waitHistory(t *testing.T, e *env, n int) []onair.HistoryEntry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := e.svc.History(context.Background(), e.station.Slug, MaxHistory)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) >= n {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d history rows after 10 s, want %d: %+v", len(h), n, h)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHistoryRecordsEachTrackStart(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.svc.Run(ctx)
	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, e.tracks[0].ID); err != nil {
		t.Fatal(err)
	}
	h := waitHistory(t, e, 1)
	if h[0].TrackID != e.tracks[0].ID || h[0].Title != e.tracks[0].Title || h[0].Source != onair.SourcePlaylist || h[0].StartedAt.IsZero() {
		t.Fatalf("first row %+v", h[0])
	}
	// A metadata edit is not a new track; a skip is.
	title := "Edited"
	if err := e.svc.UpdateMetadata(ctx, e.owner, e.station.Slug, onair.MetadataUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Skip(ctx, e.owner, e.station.Slug); err != nil {
		t.Fatal(err)
	}
	h = waitHistory(t, e, 2)
	if len(h) != 2 || h[0].TrackID != e.tracks[1].ID || h[1].TrackID != e.tracks[0].ID {
		t.Fatalf("after an edit and a skip: %+v", h)
	}

	for _, bad := range []int{0, -1, MaxHistory + 1} {
		_, err := e.svc.History(ctx, e.station.Slug, bad)
		wantCode(t, err, onair.EInvalid)
	}
	_, err := e.svc.History(ctx, "nope", 5)
	wantCode(t, err, onair.ENotFound)
}

func TestAnalyzePending(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The station is live, so the results reach it through a resync.
	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, 0); err != nil {
		t.Fatal(err)
	}
	good, bad := e.unanalysed(t, "good"), e.unanalysed(t, "bad")
	var seen []int64
	e.svc.Analyze = func(_ context.Context, tr onair.Track) (onair.Analysis, error) {
		seen = append(seen, tr.ID)
		if tr.ID == bad.ID {
			return onair.Analysis{}, errors.New("cannot decode")
		}
		return onair.Analysis{Loudness: -12, Peak: -0.5, CueIn: 10 * time.Millisecond, CueOut: tr.Duration + time.Hour}, nil
	}
	e.svc.AnalyzePending(ctx)
	if done, total := e.svc.AnalysisProgress(); done != 2 || total != 2 || len(seen) != 2 {
		t.Fatalf("progress %d/%d, analysed %v", done, total, seen)
	}
	a, _ := e.db.TrackByID(ctx, good.ID)
	if a.Analysis == nil || a.Analysis.Loudness != -12 || a.Analysis.CueIn != 0 || a.Analysis.CueOut != a.Duration {
		t.Fatalf("analysed track: %+v (bad cue points must become the whole track)", a.Analysis)
	}
	if b, _ := e.db.TrackByID(ctx, bad.ID); b.Analysis != nil {
		t.Fatalf("failed track got %+v", b.Analysis)
	}
	if !e.svc.Status(e.station.Slug).Live {
		t.Fatal("analysis stopped the station")
	}
	// Run starts it and waits for it; the failed track is tried again.
	seen = nil
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { e.svc.Run(runCtx); close(ran) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if done, total := e.svc.AnalysisProgress(); done == 1 && total == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not analyse the pending track")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-ran
}

func TestTrackArt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tr := onair.Track{StationID: e.station.ID, Title: "Cover", Path: "cover.mp3", Duration: time.Second, ArtMIME: "image/png"}
	if err := e.db.AddTrack(ctx, &tr); err != nil {
		t.Fatal(err)
	}
	path, mime, err := e.svc.TrackArt(ctx, e.station.Slug, tr.ID)
	if err != nil || mime != "image/png" || path != filepath.Join(e.media, "cover.mp3.art") {
		t.Fatalf("TrackArt = %q, %q, %v", path, mime, err)
	}
	_, _, err = e.svc.TrackArt(ctx, e.station.Slug, e.tracks[0].ID)
	wantCode(t, err, onair.ENotFound)
	st2, _ := e.svc.CreateStation(ctx, e.owner, NewStation{Name: "Two"})
	_, _, err = e.svc.TrackArt(ctx, st2.Slug, tr.ID)
	wantCode(t, err, onair.ENotFound)
	_ = os.Remove(path)
}

// fakeAudience counts listeners as the minute of the hour, so the change
// over an entry is the minutes it lasted.
type fakeAudience struct{}

func (fakeAudience) ListenersAt(_ context.Context, _ int64, t time.Time) (int, bool) {
	return t.Minute(), true
}

func (a fakeAudience) Impact(ctx context.Context, id int64, start, end time.Time) (int, int, bool) {
	s, _ := a.ListenersAt(ctx, id, start)
	e, _ := a.ListenersAt(ctx, id, end)
	return s, e - s, true
}

func TestHistoryCarriesSongImpact(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i, min := range []int{5, 9, 20} {
		if err := e.db.AddHistory(ctx, e.station.Slug, onair.HistoryEntry{
			TrackID: e.tracks[i%len(e.tracks)].ID, Title: "t", StartedAt: t0.Add(time.Duration(min) * time.Minute),
		}); err != nil {
			t.Fatal(err)
		}
	}
	hs, err := e.svc.History(ctx, e.station.Slug, 10)
	if err != nil || len(hs) != 3 {
		t.Fatalf("history %+v, %v", hs, err)
	}
	if hs[0].ListenersDelta != nil {
		t.Fatal("the entry still playing has a listener change")
	}
	e.svc.Audience = fakeAudience{}
	hs, err = e.svc.History(ctx, e.station.Slug, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: 20 (playing), 9 (until 20), 5 (until 9).
	if *hs[0].ListenersStart != 20 || hs[0].ListenersDelta != nil ||
		*hs[1].ListenersStart != 9 || *hs[1].ListenersDelta != 11 ||
		*hs[2].ListenersStart != 5 || *hs[2].ListenersDelta != 4 {
		t.Fatalf("impact %v/%v %v/%v %v/%v", *hs[0].ListenersStart, hs[0].ListenersDelta,
			*hs[1].ListenersStart, *hs[1].ListenersDelta, *hs[2].ListenersStart, *hs[2].ListenersDelta)
	}
}
