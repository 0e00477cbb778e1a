package web

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

func nowPlayingID(t *testing.T, st map[string]any) int64 {
	t.Helper()
	np, ok := st["now_playing"].(map[string]any)
	if !ok {
		t.Fatalf("now_playing %v, want an object", st["now_playing"])
	}
	return int64(np["track_id"].(float64))
}

func TestPlayoutControls(t *testing.T) {
	e := newEnv(t)
	ids := e.addTracks("tone440.mp3", "tone880.mp3", "tone1320.mp3")
	base := "/api/stations/" + e.slug

	// Anonymous and other owners are refused, and nothing starts.
	for user, status := range map[string]int{"": http.StatusUnauthorized, "other": http.StatusForbidden, "listener": http.StatusForbidden} {
		for _, action := range []string{"start", "stop", "skip", "metadata"} {
			resp, body := e.as(user, "POST", base+"/"+action, map[string]string{"show": "x"})
			wantError(t, resp, body, status)
		}
	}
	resp, body := e.as("", "GET", base, nil)
	if st := want(t, resp, body, http.StatusOK); st["live"] != false || st["show"] != "" {
		t.Fatalf("refused controls changed the station: %v", st)
	}
	// Off air: no skip, no title; the show can be set.
	resp, body = e.as("owner", "POST", base+"/skip", nil)
	wantError(t, resp, body, http.StatusConflict)

	resp, body = e.as("owner", "POST", base+"/start", nil) // empty body
	st := checkStation(t, want(t, resp, body, http.StatusOK))
	if st["live"] != true || nowPlayingID(t, st) != ids[0] {
		t.Fatalf("after start: %v", st)
	}
	np := st["now_playing"].(map[string]any)
	if np["title"] != "Tone 440" || np["artist"] != "Test Artist" || np["album"] != "Fixtures" {
		t.Errorf("now playing %v", np)
	}
	if started := checkTime(t, "started_at", np["started_at"]); time.Since(started) > time.Minute || time.Until(started) > time.Minute {
		t.Errorf("started_at %v is not now", started)
	}

	resp, body = e.as("owner", "POST", base+"/skip", "")
	if st := checkStation(t, want(t, resp, body, http.StatusOK)); nowPlayingID(t, st) != ids[1] {
		t.Fatalf("after skip playing %d, want %d", nowPlayingID(t, st), ids[1])
	}

	resp, body = e.as("owner", "POST", base+"/start", map[string]int64{"track_id": ids[2]})
	if st := checkStation(t, want(t, resp, body, http.StatusOK)); nowPlayingID(t, st) != ids[2] {
		t.Fatalf("start at %d plays %d", ids[2], nowPlayingID(t, st))
	}
	resp, body = e.as("owner", "POST", base+"/start", map[string]int64{"track_id": 99999})
	wantError(t, resp, body, http.StatusNotFound)

	resp, body = e.as("owner", "POST", base+"/metadata", map[string]string{"title": "Live Talk", "artist": "The Host", "show": "Morning Show"})
	st = checkStation(t, want(t, resp, body, http.StatusOK))
	np = st["now_playing"].(map[string]any)
	if np["title"] != "Live Talk" || np["artist"] != "The Host" || st["show"] != "Morning Show" {
		t.Fatalf("after metadata: %v", st)
	}
	resp, body = e.as("owner", "POST", base+"/metadata", map[string]string{})
	wantError(t, resp, body, http.StatusBadRequest)
	resp, body = e.as("owner", "POST", base+"/metadata", map[string]any{"title": 5})
	wantError(t, resp, body, http.StatusBadRequest)

	// The admin may stop anyone's station.
	resp, body = e.as("admin", "POST", base+"/stop", nil)
	st = checkStation(t, want(t, resp, body, http.StatusOK))
	l := st["listeners"].(map[string]any)
	if st["live"] != false || st["now_playing"] != nil || l["total"] != 0.0 || st["show"] != "Morning Show" {
		t.Fatalf("after stop: %v", st)
	}
	// Stopping twice is fine; a title needs a live station.
	resp, body = e.as("owner", "POST", base+"/stop", nil)
	want(t, resp, body, http.StatusOK)
	resp, body = e.as("owner", "POST", base+"/metadata", map[string]string{"title": "x"})
	wantError(t, resp, body, http.StatusConflict)
	resp, body = e.as("owner", "POST", base+"/metadata", map[string]string{"show": "Evening"})
	if st := want(t, resp, body, http.StatusOK); st["show"] != "Evening" || st["live"] != false {
		t.Fatalf("show while off air: %v", st)
	}
}

func TestStartNeedsTracks(t *testing.T) {
	e := newEnv(t)
	resp, body := e.as("owner", "POST", "/api/stations/"+e.slug+"/start", nil)
	wantError(t, resp, body, http.StatusConflict)
	resp, body = e.as("owner", "POST", "/api/stations/nope/start", nil)
	wantError(t, resp, body, http.StatusNotFound)
	resp, body = e.as("owner", "POST", "/api/stations/"+e.slug+"/start", `{"track_id":"one"}`)
	wantError(t, resp, body, http.StatusBadRequest)
}

func TestPlaylistOrder(t *testing.T) {
	e := newEnv(t)
	ids := e.addTracks("tone440.mp3", "tone880.mp3", "tone1320.mp3")
	path := "/api/stations/" + e.slug + "/playlist"

	reversed := []int64{ids[2], ids[1], ids[0]}
	resp, body := e.as("owner", "PUT", path, map[string]any{"track_ids": reversed})
	tracks := objects(t, want(t, resp, body, http.StatusOK), "tracks")
	if got := trackIDs(tracks); !slices.Equal(got, reversed) {
		t.Fatalf("answered order %v, want %v", got, reversed)
	}
	for i, tr := range tracks {
		checkTrack(t, tr)
		if tr["position"] != float64(i) {
			t.Errorf("track %d position %v", i, tr["position"])
		}
	}
	if got := trackIDs(e.tracks(e.slug)); !slices.Equal(got, reversed) {
		t.Fatalf("listed order %v, want %v", got, reversed)
	}

	for name, bad := range map[string]any{
		"missing one": map[string]any{"track_ids": []int64{ids[0], ids[1]}},
		"duplicate":   map[string]any{"track_ids": []int64{ids[0], ids[1], ids[1]}},
		"foreign id":  map[string]any{"track_ids": []int64{ids[0], ids[1], ids[2], 9999}},
		"null":        map[string]any{"track_ids": nil},
		"absent":      map[string]any{},
		"strings":     map[string]any{"track_ids": []string{"a"}},
		"fractions":   map[string]any{"track_ids": []float64{1.5}},
		"not json":    "[1,2",
	} {
		resp, body := e.as("owner", "PUT", path, bad)
		if msg := wantError(t, resp, body, http.StatusBadRequest); msg == "" {
			t.Errorf("%s: no message", name)
		}
	}
	resp, body = e.as("other", "PUT", path, map[string]any{"track_ids": ids})
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = e.as("", "PUT", path, map[string]any{"track_ids": ids})
	wantError(t, resp, body, http.StatusUnauthorized)
	if got := trackIDs(e.tracks(e.slug)); !slices.Equal(got, reversed) {
		t.Fatalf("refused orders changed it to %v", got)
	}
}

func TestDeleteTrack(t *testing.T) {
	e := newEnv(t)
	ids := e.addTracks("tone440.mp3", "tone880.mp3")
	files := e.files()
	path := "/api/stations/" + e.slug + "/tracks/"

	resp, body := e.as("other", "DELETE", path+itoa(ids[0]), nil)
	wantError(t, resp, body, http.StatusForbidden)
	resp, body = e.as("", "DELETE", path+itoa(ids[0]), nil)
	wantError(t, resp, body, http.StatusUnauthorized)
	for _, bad := range []string{"9999", "abc", "-1", "0"} {
		resp, body = e.as("owner", "DELETE", path+bad, nil)
		wantError(t, resp, body, http.StatusNotFound)
	}
	if got := trackIDs(e.tracks(e.slug)); !slices.Equal(got, ids) {
		t.Fatalf("tracks %v after refused deletes", got)
	}

	resp, body = e.as("owner", "DELETE", path+itoa(ids[0]), nil)
	want(t, resp, body, http.StatusNoContent)
	if got := trackIDs(e.tracks(e.slug)); !slices.Equal(got, ids[1:]) {
		t.Fatalf("tracks %v after delete, want %v", got, ids[1:])
	}
	if left := e.files(); len(left) != 1 || !slices.Contains(files, left[0]) {
		t.Fatalf("files %v after delete, were %v", left, files)
	}
	resp, body = e.as("owner", "DELETE", path+itoa(ids[0]), nil)
	wantError(t, resp, body, http.StatusNotFound)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
