package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onairfm/onair/internal/testutil"
)

// copyFixture copies a fixture into dir under a new name, for the file
// picker.
func copyFixture(t *testing.T, dir, fixtureName, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, fixture(t, fixtureName).data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dashboardLogin logs in on the dashboard's form.
func (b *browser) dashboardLogin(url, user, password string) {
	b.t.Helper()
	b.open(url + "/dashboard")
	b.waitJS(10*time.Second, "the login form", `!document.querySelector('#login-view').hidden`)
	b.typeInto(`#login-form [name=username]`, user)
	b.typeInto(`#login-form [name=password]`, password)
	b.click(`#login-form button[type=submit]`)
	b.waitJS(10*time.Second, "the dashboard after login", `!document.querySelector('#app-view').hidden`)
}

func TestBrowserDashboard(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("alice")
	s.owner("bob")
	var other struct{ Slug string }
	s.must(201, "POST", "/api/stations", s.login("bob", "owner-password"), map[string]string{"name": "Bob Radio"}, &other)
	b := newBrowser(t)

	b.dashboardLogin(s.URL, "alice", "owner-password")
	b.waitText(5*time.Second, "#me-name", "alice")
	// Only her own stations: she has none yet, so the create form is open.
	b.waitJS(5*time.Second, "the empty list", `!document.querySelector('#stations-empty').hidden`)
	if n := js[int](b, `document.querySelectorAll('#station-list li').length`); n != 0 {
		t.Fatalf("alice sees %d stations, want 0 (Bob's is not hers)", n)
	}

	// Create a station.
	b.typeInto(`#create-form [name=name]`, "Morning Show")
	b.typeInto(`#create-form [name=genre]`, "Talk")
	b.click(`#create-form button[type=submit]`)
	b.waitText(10*time.Second, "#st-name", "Morning Show")
	const slug = "morning-show"
	var st stationJSON
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if got := js[string](b, `document.querySelector('#url-mp3').value`); got != s.URL+"/stream/"+slug {
		t.Errorf("stream URL shown %q", got)
	}

	// What the API says of the bad file, to compare with the page.
	dir := t.TempDir()
	bad := copyFixture(t, dir, "not-mp3.wav", "bad.mp3")
	badData, _ := os.ReadFile(bad)
	status, res := s.upload(tok, slug, namedFile{"bad.mp3", badData})
	if status/100 != 4 || len(res.Errors) != 1 {
		t.Fatalf("bad upload through the API: %d %+v", status, res)
	}
	wantReason := "Rejected: " + res.Errors[0].Error

	// Upload two MP3s and the bad file at once through the file picker.
	files := []string{
		copyFixture(t, dir, "tone440.mp3", "tone440.mp3"),
		copyFixture(t, dir, "tone880.mp3", "tone880.mp3"),
		bad,
	}
	b.do(10*time.Second, chromedp.SetUploadFiles(chromedp.CSS("#file-input"), files))
	b.waitJS(30*time.Second, "three finished uploads",
		`document.querySelectorAll('#uploads li.ok, #uploads li.rejected').length === 3`)
	rows := js[[]struct {
		Name     string  `json:"name"`
		Status   string  `json:"status"`
		Progress float64 `json:"progress"`
		OK       bool    `json:"ok"`
	}](b, `[...document.querySelectorAll('#uploads li')].map(li => ({
		name: li.querySelector('.upload-name').textContent,
		status: li.querySelector('.upload-status').textContent,
		progress: li.querySelector('progress').value,
		ok: li.classList.contains('ok')}))`)
	if len(rows) != 3 {
		t.Fatalf("upload rows %+v", rows)
	}
	for _, r := range rows[:2] {
		if !r.OK || r.Progress != 1 {
			t.Errorf("upload row %+v: want added with a full progress bar", r)
		}
	}
	if rows[2].Name != "bad.mp3" || rows[2].OK || rows[2].Status != wantReason {
		t.Errorf("bad file row %+v, want status %q", rows[2], wantReason)
	}
	b.waitJS(10*time.Second, "two tracks in the playlist", `document.querySelectorAll('#playlist li').length === 2`)
	if got := playlistTitles(b); got != "Tone 440|Tone 880" {
		t.Fatalf("playlist %q", got)
	}

	// Reorder with the keyboard-reachable buttons.
	b.click(`#playlist button[aria-label="Move Tone 880 by Test Artist up"]`)
	b.waitJS(10*time.Second, "the new order", `[...document.querySelectorAll('#playlist .track-title')].map(e => e.textContent).join('|') === 'Tone 880|Tone 440'`)
	var tracks struct{ Tracks []trackJSON }
	testutil.Eventually(t, 5*time.Second, "the order saved", func() bool {
		s.must(200, "GET", "/api/stations/"+slug+"/tracks", "", nil, &tracks)
		return len(tracks.Tracks) == 2 && tracks.Tracks[0].Title == "Tone 880"
	})
	if active := js[string](b, `document.activeElement.getAttribute('aria-label') || ''`); active == "" {
		t.Error("the focus was lost after moving a track")
	}

	// Start, skip, show title, live listeners, stop.
	b.click("#start")
	b.waitText(10*time.Second, "#st-badge", "Live")
	b.waitText(10*time.Second, "#st-title", "Tone 880")
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if !st.Live || st.NowPlaying == nil || st.NowPlaying.Title != "Tone 880" {
		t.Fatalf("after Start: %+v", st)
	}

	b.click("#skip")
	b.waitText(10*time.Second, "#st-title", "Tone 440")
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if st.NowPlaying == nil || st.NowPlaying.Title != "Tone 440" {
		t.Fatalf("after Skip: %+v", st.NowPlaying)
	}

	b.typeInto("#show-input", "Late Show")
	b.click(`#show-form button[type=submit]`)
	testutil.Eventually(t, 10*time.Second, "the show saved", func() bool {
		s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
		return st.Show == "Late Show"
	})

	stop := httpListener(t, s.URL+"/stream/"+slug)
	b.waitText(10*time.Second, "#st-listeners", "1")
	b.waitText(5*time.Second, "#st-http", "1")
	stop()
	b.waitText(10*time.Second, "#st-listeners", "0")

	b.click("#shuffle")
	testutil.Eventually(t, 10*time.Second, "shuffle saved", func() bool {
		var sh struct{ Shuffle bool }
		s.must(200, "GET", "/api/stations/"+slug, "", nil, &sh)
		return sh.Shuffle
	})

	b.click("#stop")
	b.waitText(10*time.Second, "#st-badge", "Off air")
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if st.Live {
		t.Fatal("still live after Stop")
	}

	// Delete a track.
	b.click(`#playlist button[aria-label="Delete Tone 440 by Test Artist"]`)
	b.waitJS(10*time.Second, "one track left", `document.querySelectorAll('#playlist li').length === 1`)
	s.must(200, "GET", "/api/stations/"+slug+"/tracks", "", nil, &tracks)
	if len(tracks.Tracks) != 1 || tracks.Tracks[0].Title != "Tone 880" {
		t.Fatalf("tracks after delete: %+v", tracks.Tracks)
	}

	// Log out: back to the login form, and the session is gone.
	b.click("#logout")
	b.waitJS(10*time.Second, "the login form again", `!document.querySelector('#login-view').hidden`)
	if got := js[int](b, `fetch('/api/me').then(r => r.status)`); got != 401 {
		t.Errorf("GET /api/me after logout: %d", got)
	}
	b.checkClean()
}

func playlistTitles(b *browser) string {
	b.t.Helper()
	return js[string](b, `[...document.querySelectorAll('#playlist .track-title')].map(e => e.textContent).join('|')`)
}
