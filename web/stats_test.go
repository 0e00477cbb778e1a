package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/stats"
)

// withStats gives the env a recorder whose live counts the test sets, and
// three samples of the owner's station: 2, 5 (3 http + 2 webrtc) and 1.
func withStats(t *testing.T, e *env) *stats.Recorder {
	t.Helper()
	var mu sync.Mutex
	counts := onair.Listeners{}
	// The recorder's clock: a minute per sample, ending about now.
	now := time.Now().Add(-3 * time.Minute)
	rec := &stats.Recorder{Store: e.db, Live: func(slug string) (onair.Listeners, bool) {
		mu.Lock()
		defer mu.Unlock()
		return counts, slug == e.slug
	}, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}}
	if err := rec.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close() })
	e.srv.Stats = rec
	for _, n := range []onair.Listeners{{HTTP: 2}, {HTTP: 3, WebRTC: 2}, {HTTP: 1}} {
		mu.Lock()
		counts = n
		now = now.Add(time.Minute)
		mu.Unlock()
		if err := rec.SampleNow(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-2 * time.Minute)
	rec.Session(onair.ListenSession{ID: 1, Station: e.slug, Transport: onair.TransportHTTP, UserAgent: "VLC/3.0", Start: start})
	rec.Session(onair.ListenSession{ID: 1, Station: e.slug, Transport: onair.TransportHTTP, UserAgent: "VLC/3.0", Start: start, End: start.Add(time.Minute)})
	if err := rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestStationStats(t *testing.T) {
	e := newEnv(t)
	withStats(t, e)
	path := "/api/stations/" + e.slug + "/stats"

	for _, tc := range []struct {
		user, path string
		status     int
	}{
		{"", path, http.StatusUnauthorized},
		{"listener", path, http.StatusForbidden},
		{"other", path, http.StatusForbidden},
		{"other", path + ".csv", http.StatusForbidden},
		{"owner", "/api/stations/nope/stats", http.StatusNotFound},
		{"owner", "/api/stats", http.StatusForbidden},
		{"owner", "/api/stats.csv", http.StatusForbidden},
		{"owner", path + "?from=yesterday", http.StatusBadRequest},
		{"owner", path + "?to=2026-01-01", http.StatusBadRequest},
		{"owner", path + "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", http.StatusBadRequest},
		{"owner", path + "?from=" + url.QueryEscape(time.Now().Add(-200*24*time.Hour).Format(time.RFC3339)), http.StatusBadRequest},
	} {
		resp, body := e.as(tc.user, "GET", tc.path, nil)
		msg := wantError(t, resp, body, tc.status)
		if tc.status == http.StatusBadRequest && !strings.Contains(msg, "from") && !strings.Contains(msg, "to") {
			t.Errorf("%s: message %q does not say which parameter", tc.path, msg)
		}
	}

	for _, user := range []string{"owner", "admin"} {
		resp, body := e.as(user, "GET", path, nil)
		rep := want(t, resp, body, http.StatusOK)
		checkShape(t, "stats", rep, map[string]string{
			"points": "array", "peak": "object", "sessions": "number",
			"listening_hours": "number", "avg_session_s": "number",
		})
		pts := objects(t, rep, "points")
		if len(pts) != 3 {
			t.Fatalf("%s: %d points, want 3", user, len(pts))
		}
		for _, p := range pts {
			checkShape(t, "point", p, map[string]string{"t": "string", "listeners": "number", "http": "number", "webrtc": "number", "chat": "number", "likes": "number"})
			checkTime(t, "point t", p["t"])
		}
		if p := pts[1]; p["listeners"] != 5.0 || p["http"] != 3.0 || p["webrtc"] != 2.0 {
			t.Errorf("point 1 = %v, want 5 = 3 + 2", p)
		}
		peak := rep["peak"].(map[string]any)
		if peak["listeners"] != 5.0 || checkTime(t, "peak t", peak["t"]) != checkTime(t, "point t", pts[1]["t"]) {
			t.Errorf("peak %v, want 5 at the second point", peak)
		}
		if rep["sessions"] != 1.0 || rep["avg_session_s"] != 60.0 {
			t.Errorf("sessions %v avg %v, want 1 and 60", rep["sessions"], rep["avg_session_s"])
		}
	}

	// A range with nothing in it is an empty chart, not an error.
	old := url.QueryEscape(time.Now().Add(-30 * 24 * time.Hour).Format(time.RFC3339))
	resp, body := e.as("owner", "GET", path+"?from="+old+"&to="+url.QueryEscape(time.Now().Add(-29*24*time.Hour).Format(time.RFC3339)), nil)
	rep := want(t, resp, body, http.StatusOK)
	if pts := rep["points"].([]any); len(pts) != 0 || rep["peak"].(map[string]any)["t"] != nil {
		t.Errorf("empty range: %v", rep)
	}

	// The server's figures, for the admin.
	resp, body = e.as("admin", "GET", "/api/stats?from="+old, nil)
	rep = want(t, resp, body, http.StatusOK)
	if rep["step_s"] != 3600.0 || len(objects(t, rep, "points")) < 1 {
		t.Errorf("server, 30 days: step %v, %d points; want hourly", rep["step_s"], len(objects(t, rep, "points")))
	}
}

func TestStationStatsCSV(t *testing.T) {
	e := newEnv(t)
	withStats(t, e)
	for _, p := range []string{"/api/stations/" + e.slug + "/stats.csv", "/api/stats.csv"} {
		resp, body := e.as("admin", "GET", p, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("%s: Content-Disposition %q", p, cd)
		}
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || strings.Join(rows[0], ",") != "t,listeners,http,webrtc,chat,likes" {
			t.Fatalf("%s: rows %q", p, rows)
		}
		if _, err := time.Parse(time.RFC3339, rows[2][0]); err != nil || strings.Join(rows[2][1:], ",") != "5,3,2,0,0" {
			t.Errorf("%s: row 2 %q", p, rows[2])
		}
	}
}
