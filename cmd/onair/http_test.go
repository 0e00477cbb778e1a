package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/icytest"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/relay"
)

// listenICY reads /stream/SLUG as a media player does, with metadata.
func listenICY(t *testing.T, ctx context.Context, url string) *icytest.Listener {
	t.Helper()
	return icytest.Listen(t, ctx, url, relay.Metaint)
}

// heard is the dominant test tone of some MP3.
func heard(t *testing.T, mp3 []byte) float64 {
	t.Helper()
	return audiotest.ToneOfMP3(t, mp3, 440, 550, 660, 880, 1320)
}

type stationJSON struct {
	Slug       string
	Live       bool
	Show       string
	Listeners  struct{ Total, HTTP, WebRTC int }
	NowPlaying *struct {
		TrackID int64 `json:"track_id"`
		Title   string
		Artist  string
	} `json:"now_playing"`
}

func TestListenOverHTTP(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Tone FM", "tone440.mp3", "tone880.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	l := listenICY(t, ctx, s.URL+"/stream/"+slug)
	if l.Resp.Header.Get("icy-name") != "Tone FM" || l.Resp.Header.Get("icy-genre") != "Tones" || l.Resp.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("headers %v", l.Resp.Header)
	}
	l.ReadUntil("2 s of audio", func() bool { return len(l.Audio) >= 32000 })
	if got := l.Reader.Title(); got != "Test Artist - Tone 440" {
		t.Fatalf("title %q", got)
	}
	if f := heard(t, l.Audio); f != 440 {
		t.Fatalf("heard %v Hz, want 440", f)
	}
	var st stationJSON
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if !st.Live || st.Listeners.HTTP != 1 || st.Listeners.Total != 1 || st.NowPlaying == nil || st.NowPlaying.Title != "Tone 440" {
		t.Fatalf("station %+v", st)
	}

	// Skip: the next title arrives in the stream and the audio after it is
	// the next track.
	s.must(200, "POST", "/api/stations/"+slug+"/skip", tok, nil, nil)
	l.ReadUntil("the next title", func() bool { _, ok := l.TitleAt("Test Artist - Tone 880", 0); return ok })
	at, _ := l.TitleAt("Test Artist - Tone 880", 0)
	l.ReadUntil("2 s of the next track", func() bool { return int64(len(l.Audio)) >= at+32000 })
	if f := heard(t, l.Audio[at:]); f != 880 {
		t.Fatalf("after the title change heard %v Hz, want 880", f)
	}

	// Real time over several seconds: long enough that the half-second
	// chunks audio arrives in cannot move the figure by more than 6%.
	from, t0 := len(l.Audio), time.Now()
	l.ReadUntil("8 s more", func() bool { return len(l.Audio) >= from+8*16000 })
	if rate := float64(len(l.Audio)-from) / time.Since(t0).Seconds(); rate < 13600 || rate > 18400 {
		t.Fatalf("%.0f bytes/s, want about 16000 (128 kbit/s)", rate)
	}

	// Stop: the stream ends and the station answers 404.
	s.must(200, "POST", "/api/stations/"+slug+"/stop", tok, nil, nil)
	if _, err := io.Copy(io.Discard, l.Resp.Body); err != nil && ctx.Err() != nil {
		t.Fatal("stream still open after stop")
	}
	resp, err := http.Get(s.URL + "/stream/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("stopped station answers %d, want 404", resp.StatusCode)
	}
}

func TestRestartKeepsStationsLive(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	tok := s.owner("deejay")
	slug, tracks := s.liveStation(tok, "Restart FM", "tone440.mp3", "tone880.mp3", "tone1320.mp3")
	s.must(200, "POST", "/api/stations/"+slug+"/start", tok, map[string]any{"track_id": tracks[2].ID}, nil)
	// Another station, stopped, stays stopped.
	off, _ := s.liveStation(tok, "Off FM", "tone880.mp3")
	s.must(200, "POST", "/api/stations/"+off+"/stop", tok, nil, nil)
	testutil.Eventually(t, 5*time.Second, "the playing track to be saved", func() bool {
		var st stationJSON
		s.do("GET", "/api/stations/"+slug, "", nil, &st)
		return st.NowPlaying != nil && st.NowPlaying.TrackID == tracks[2].ID
	})
	time.Sleep(200 * time.Millisecond) // let the saver write; no event to wait on from outside
	s.stop()

	s2 := startServer(t, dir)
	var st stationJSON
	s2.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if !st.Live || st.NowPlaying == nil || st.NowPlaying.TrackID != tracks[2].ID {
		t.Fatalf("after restart: %+v", st)
	}
	s2.must(200, "GET", "/api/stations/"+off, "", nil, &st)
	if st.Live {
		t.Fatal("a stopped station came back live")
	}
	resp, err := http.Get(s2.URL + "/stream/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	audio := make([]byte, 32000)
	if _, err := io.ReadFull(resp.Body, audio); err != nil {
		t.Fatal(err)
	}
	if f := heard(t, audio); f != 1320 {
		t.Fatalf("after restart heard %v Hz, want 1320", f)
	}
}

func TestBadUploadsLeaveNothing(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	var st struct{ Slug string }
	s.must(201, "POST", "/api/stations", tok, map[string]string{"name": "Bad"}, &st)
	mp3 := audiotest.Fixture(t, "tone440.mp3")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	cases := []struct {
		file namedFile
		want int
	}{
		// A WAV is audio whatever its name, but this one lasts 50 ms.
		{namedFile{"song.mp3", audiotest.Fixture(t, "not-mp3.wav")}, 422},
		{namedFile{"cover.mp3", png}, 415},
		{namedFile{"notes.mp3", []byte("just some text, not audio at all\n")}, 415},
		{namedFile{"empty.mp3", nil}, 422},
		{namedFile{"cut.mp3", mp3[:100]}, 0},
		// Valid frame headers over noise: refused only by decoding.
		{namedFile{"noise.mp3", audiotest.GarbageMP3Frames()}, 422},
	}
	for _, c := range cases {
		status, res := s.upload(tok, st.Slug, c.file)
		if status < 400 || status >= 500 || (c.want != 0 && status != c.want) {
			t.Errorf("%s: status %d, want %d", c.file.name, status, c.want)
		}
		if len(res.Errors) != 1 || res.Errors[0].File != c.file.name || res.Errors[0].Error == "" || !strings.Contains(res.Errors[0].Error, c.file.name) {
			t.Errorf("%s: errors %+v", c.file.name, res.Errors)
		}
	}
	// A file name that climbs out of the media directory stays inside.
	status, res := s.upload(tok, st.Slug, namedFile{"../../x.mp3", mp3})
	if status != 201 || res.Tracks[0].Filename != "x.mp3" {
		t.Fatalf("../../x.mp3: %d %+v", status, res)
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "..", "x.mp3")); err == nil {
		t.Fatal("a file was written outside the data directory")
	}
	var list struct{ Tracks []trackJSON }
	s.must(200, "GET", "/api/stations/"+st.Slug+"/tracks", "", nil, &list)
	files, _ := os.ReadDir(filepath.Join(s.dataDir, "media"))
	if len(list.Tracks) != 1 || len(files) != 1 {
		t.Fatalf("%d tracks and %d files, want only the good one", len(list.Tracks), len(files))
	}
	s.must(200, "GET", "/healthz", "", nil, nil)
}

func TestOwnerActionsOverREST(t *testing.T) {
	s := startServer(t, "")
	owner := s.owner("owner")
	other := s.owner("other")
	var reg struct{ ID int64 }
	s.must(201, "POST", "/api/auth/register", "", map[string]string{"username": "fan", "password": "fan-password"}, &reg)
	listener := s.login("fan", "fan-password")
	slug, tracks := s.liveStation(owner, "Mine", "tone440.mp3", "tone880.mp3")
	base := "/api/stations/" + slug
	actions := []struct {
		method, path string
		body         any
		ok           int
	}{
		{"POST", base + "/skip", nil, 200},
		{"POST", base + "/metadata", map[string]string{"show": "S"}, 200},
		{"PATCH", base, map[string]any{"name": "Renamed", "shuffle": false}, 200},
		{"PUT", base + "/playlist", map[string]any{"track_ids": []int64{tracks[1].ID, tracks[0].ID}}, 200},
		{"POST", base + "/start", nil, 200},
		{"POST", base + "/stop", nil, 200},
		{"DELETE", base + "/tracks/" + itoa(tracks[0].ID), nil, 204},
	}
	for _, a := range actions {
		for _, who := range []struct {
			token string
			want  int
		}{{"", 401}, {listener, 403}, {other, 403}} {
			if got := s.do(a.method, a.path, who.token, a.body, nil); got != who.want {
				t.Errorf("%s %s as %q: %d, want %d", a.method, a.path, who.token, got, who.want)
			}
		}
	}
	var st stationJSON
	s.must(200, "GET", base, "", nil, &st)
	if !st.Live || st.Show != "" || st.NowPlaying.Title != "Tone 440" {
		t.Fatalf("refused actions changed the station: %+v", st)
	}
	for i, a := range actions {
		token := owner
		if i%2 == 1 {
			token = s.admin
		}
		if got := s.do(a.method, a.path, token, a.body, nil); got != a.ok {
			t.Errorf("%s %s as owner/admin: %d, want %d", a.method, a.path, got, a.ok)
		}
	}
	if got := s.do("DELETE", base, other, nil, nil); got != 403 {
		t.Errorf("delete by another owner: %d", got)
	}
	s.must(204, "DELETE", base, owner, nil, nil)
	s.must(404, "GET", base, "", nil, nil)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestMetrics(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Metric FM", "tone440.mp3")
	resp, err := http.Get(s.URL + "/stream/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s.dial(t, "")
	testutil.Eventually(t, 5*time.Second, "the metrics to show the listener and the socket", func() bool {
		r, err := http.Get(s.URL + "/metrics")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		body := string(b)
		return strings.Contains(body, "onair_live_stations 1") && strings.Contains(body, `onair_listeners{transport="http"} 1`) &&
			strings.Contains(body, "onair_websocket_connections 1") && strings.Contains(body, "process_cpu_seconds_total")
	})
}
