package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/control"
	"github.com/onairfm/onair/internal/testutil"
)

func TestStationAudioPatch(t *testing.T) {
	e := newEnv(t)
	base := "/api/stations/" + e.slug
	resp, body := e.as("", "GET", base, nil)
	st := checkStation(t, want(t, resp, body, http.StatusOK))
	before := fmt.Sprint(st["audio"])
	if before != "map[crossfade_ms:2000 jingle_every:0 loudness:map[enabled:true target_lufs:-16] mp3_bitrate:128000 sample_rate:44100]" {
		t.Errorf("default audio %s", before)
	}

	for _, tc := range []struct {
		user   string
		body   string
		status int
	}{
		{"", `{"audio":{"crossfade_ms":0}}`, http.StatusUnauthorized},
		{"other", `{"audio":{"crossfade_ms":0}}`, http.StatusForbidden},
		{"listener", `{"audio":{"crossfade_ms":0}}`, http.StatusForbidden},
		{"owner", `{"audio":{"crossfade_ms":20000}}`, http.StatusBadRequest},
		{"owner", `{"audio":{"sample_rate":22050}}`, http.StatusBadRequest},
		{"owner", `{"audio":{"mp3_bitrate":100000}}`, http.StatusBadRequest},
		{"owner", `{"audio":{"loudness":{"target_lufs":-3}}}`, http.StatusBadRequest},
		{"owner", `{"audio":{"jingle_every":101}}`, http.StatusBadRequest},
		{"owner", `{"audio":{"crossfade_ms":"2s"}}`, http.StatusBadRequest},
		{"owner", `{"audio":{"crossfade_ms":1000,"sample_rate":1}}`, http.StatusBadRequest},
	} {
		resp, body := e.as(tc.user, "PATCH", base, tc.body)
		wantError(t, resp, body, tc.status)
	}
	resp, body = e.as("", "GET", base, nil)
	if got := fmt.Sprint(want(t, resp, body, http.StatusOK)["audio"]); got != before {
		t.Fatalf("refused patches changed the audio: %s", got)
	}

	resp, body = e.as("owner", "PATCH", base, `{"audio":{"crossfade_ms":4500,"loudness":{"enabled":false},"jingle_every":3}}`)
	st = checkStation(t, want(t, resp, body, http.StatusOK))
	want1 := "map[crossfade_ms:4500 jingle_every:3 loudness:map[enabled:false target_lufs:-16] mp3_bitrate:128000 sample_rate:44100]"
	if got := fmt.Sprint(st["audio"]); got != want1 {
		t.Fatalf("after a patch: %s\nwant %s", got, want1)
	}
	// On air too; the admin may.
	e.addTracks("tone440.mp3")
	resp, body = e.as("owner", "POST", base+"/start", nil)
	want(t, resp, body, http.StatusOK)
	resp, body = e.as("admin", "PATCH", base, `{"audio":{"sample_rate":48000,"mp3_bitrate":192000,"loudness":{"target_lufs":-23}}}`)
	st = checkStation(t, want(t, resp, body, http.StatusOK))
	want2 := "map[crossfade_ms:4500 jingle_every:3 loudness:map[enabled:false target_lufs:-23] mp3_bitrate:192000 sample_rate:48000]"
	if got := fmt.Sprint(st["audio"]); got != want2 || st["live"] != true {
		t.Fatalf("after a live patch: %s (live %v)\nwant %s", got, st["live"], want2)
	}
}

func TestTrackPatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := e.addTracks("tone440.mp3", "tone880.mp3")
	path := fmt.Sprintf("/api/stations/%s/tracks/%d", e.slug, ids[0])
	tr := e.tracks(e.slug)[0]
	checkTrack(t, tr)
	if tr["format"] != "mp3" || tr["kind"] != "music" || tr["art"] != nil {
		t.Errorf("uploaded track %v", tr)
	}

	// Ingest analyses at upload; a track from before analysis existed
	// has no cue points to edit yet.
	if tr["loudness_lufs"] == nil || tr["cue_out_ms"] == nil {
		t.Fatalf("upload not analysed: %v", tr)
	}
	st, err := e.db.StationBySlug(ctx, e.slug)
	if err != nil {
		t.Fatal(err)
	}
	old := onair.Track{StationID: st.ID, Title: "Old", Path: "old.mp3", Duration: 3 * time.Second}
	if err := e.db.AddTrack(ctx, &old); err != nil {
		t.Fatal(err)
	}
	resp, body := e.as("owner", "PATCH", fmt.Sprintf("/api/stations/%s/tracks/%d", e.slug, old.ID), `{"cue_in_ms":100}`)
	wantError(t, resp, body, http.StatusConflict)
	if err := e.db.SetTrackAnalysis(ctx, ids[0], onair.Analysis{Loudness: -17.5, Peak: -1.25, CueOut: time.Duration(tr["duration_ms"].(float64)) * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	dur := int64(tr["duration_ms"].(float64))

	for _, tc := range []struct {
		user, body string
		status     int
	}{
		{"", `{"kind":"jingle"}`, http.StatusUnauthorized},
		{"other", `{"kind":"jingle"}`, http.StatusForbidden},
		{"listener", `{"kind":"jingle"}`, http.StatusForbidden},
		{"owner", `{}`, http.StatusBadRequest},
		{"owner", `{"kind":"advert"}`, http.StatusBadRequest},
		{"owner", `{"kind":1}`, http.StatusBadRequest},
		{"owner", `{"cue_in_ms":-5}`, http.StatusBadRequest},
		{"owner", fmt.Sprintf(`{"cue_out_ms":%d}`, dur+1), http.StatusBadRequest},
		{"owner", `{"cue_in_ms":1000,"cue_out_ms":1200}`, http.StatusBadRequest},
		{"owner", `{"cue_in_ms":9223372036854775807}`, http.StatusBadRequest},
		{"owner", `{"title":""}`, http.StatusBadRequest},
		{"owner", `not json`, http.StatusBadRequest},
	} {
		resp, body := e.as(tc.user, "PATCH", path, tc.body)
		wantError(t, resp, body, tc.status)
	}
	resp, body = e.as("owner", "PATCH", fmt.Sprintf("/api/stations/%s/tracks/%d", e.slug, ids[1]+100), `{"kind":"jingle"}`)
	wantError(t, resp, body, http.StatusNotFound)
	resp, body = e.as("owner", "PATCH", "/api/stations/"+e.slug+"/tracks/x", `{"kind":"jingle"}`)
	wantError(t, resp, body, http.StatusNotFound)

	resp, body = e.as("owner", "PATCH", path, `{"kind":"jingle","cue_in_ms":250,"cue_out_ms":1750,"title":"ID","artist":"Test FM"}`)
	got := want(t, resp, body, http.StatusOK)
	checkTrack(t, got)
	if got["kind"] != "jingle" || got["cue_in_ms"] != 250.0 || got["cue_out_ms"] != 1750.0 || got["title"] != "ID" ||
		got["artist"] != "Test FM" || got["loudness_lufs"] != -17.5 || got["peak_dbtp"] != -1.25 {
		t.Fatalf("after patch: %v", got)
	}
	if listed := e.tracks(e.slug)[0]; fmt.Sprint(listed) != fmt.Sprint(got) {
		t.Errorf("listed %v\nanswered %v", listed, got)
	}
}

func TestTrackArt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st, err := e.db.StationBySlug(ctx, e.slug)
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n fake image bytes")
	tr := onair.Track{StationID: st.ID, Title: "Covered", Path: "covered.mp3", Duration: time.Second, ArtMIME: "image/png"}
	if err := e.db.AddTrack(ctx, &tr); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.media, "covered.mp3.art"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	artURL := fmt.Sprintf("/api/stations/%s/tracks/%d/art", e.slug, tr.ID)
	if listed := e.tracks(e.slug)[0]; listed["art"] != artURL {
		t.Fatalf("track art %v, want %s", listed["art"], artURL)
	}
	resp, body := e.as("", "GET", artURL, nil)
	if resp.StatusCode != http.StatusOK || string(body) != string(png) {
		t.Fatalf("art: %d %q", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" || etag == "" ||
		resp.Header.Get("Cache-Control") != "public, max-age=86400" {
		t.Fatalf("art headers %v", resp.Header)
	}
	resp, _ = e.do("GET", artURL, "", nil, http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d, want 304", resp.StatusCode)
	}

	// No art, no file, another station's track, no such track.
	ids := e.addTracks("tone440.mp3")
	other, err := e.srv.Control.CreateStation(ctx, e.other, control.NewStation{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		fmt.Sprintf("/api/stations/%s/tracks/%d/art", e.slug, ids[0]),
		fmt.Sprintf("/api/stations/%s/tracks/%d/art", other.Slug, tr.ID),
		fmt.Sprintf("/api/stations/%s/tracks/%d/art", e.slug, ids[0]+50),
		"/api/stations/nope/tracks/1/art",
	} {
		resp, body := e.as("", "GET", p, nil)
		wantError(t, resp, body, http.StatusNotFound)
	}
	os.Remove(filepath.Join(e.media, "covered.mp3.art"))
	resp, body = e.as("", "GET", artURL, nil)
	wantError(t, resp, body, http.StatusNotFound)
}

func TestHistoryRoute(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { e.srv.Control.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	ids := e.addTracks("tone440.mp3", "tone880.mp3")
	base := "/api/stations/" + e.slug

	for _, q := range []string{"?limit=0", "?limit=-1", "?limit=abc", "?limit=201", "?limit=1.5"} {
		resp, body := e.as("", "GET", base+"/history"+q, nil)
		wantError(t, resp, body, http.StatusBadRequest)
	}
	resp, body := e.as("", "GET", "/api/stations/nope/history", nil)
	wantError(t, resp, body, http.StatusNotFound)
	resp, body = e.as("", "GET", base+"/history", nil)
	if h := objects(t, want(t, resp, body, http.StatusOK), "history"); len(h) != 0 {
		t.Fatalf("history before any play: %v", h)
	}

	resp, body = e.as("owner", "POST", base+"/start", nil)
	want(t, resp, body, http.StatusOK)
	resp, body = e.as("owner", "POST", base+"/skip", nil)
	want(t, resp, body, http.StatusOK)
	var h []map[string]any
	testutil.Eventually(t, 10*time.Second, "two history rows", func() bool {
		resp, body := e.as("", "GET", base+"/history?limit=200", nil)
		h = objects(t, want(t, resp, body, http.StatusOK), "history")
		return len(h) >= 2
	})
	for _, row := range h {
		checkExactKeys(t, "history", row, "track_id", "title", "artist", "started_at", "source")
		checkTime(t, "history.started_at", row["started_at"])
	}
	if h[0]["track_id"] != float64(ids[1]) || h[1]["track_id"] != float64(ids[0]) || h[0]["source"] != "playlist" || h[1]["title"] != "Tone 440" {
		t.Fatalf("history newest first: %v", h)
	}
	resp, body = e.as("", "GET", base+"/history?limit=1", nil)
	if h := objects(t, want(t, resp, body, http.StatusOK), "history"); len(h) != 1 {
		t.Fatalf("limit=1 gave %d rows", len(h))
	}
}

func TestAnalysisProgressRoute(t *testing.T) {
	e := newEnv(t)
	resp, body := e.as("", "GET", "/api/analysis", nil)
	wantError(t, resp, body, http.StatusUnauthorized)
	resp, body = e.as("listener", "GET", "/api/analysis", nil)
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = e.as("owner", "GET", "/api/analysis", nil)
	m := want(t, resp, body, http.StatusOK)
	checkShape(t, "analysis", m, map[string]string{"done": tNumber, "total": tNumber, "running": tBool})
}
