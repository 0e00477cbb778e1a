package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/store"
)

// trackSoundJSON is the track JSON of issue 8, as far as these tests read it.
type trackSoundJSON struct {
	ID         int64    `json:"id"`
	Title      string   `json:"title"`
	Kind       string   `json:"kind"`
	Format     string   `json:"format"`
	DurationMS int64    `json:"duration_ms"`
	CueInMS    *int64   `json:"cue_in_ms"`
	CueOutMS   *int64   `json:"cue_out_ms"`
	Loudness   *float64 `json:"loudness_lufs"`
	Peak       *float64 `json:"peak_dbtp"`
	Art        *string  `json:"art"`
}

// standInAnalysis gives every unanalysed track an analysis through the
// store, as ingest does at upload once it measures; the page's cue editor
// needs one. It also adds a track with cover art (art is read from tags by
// ingest) and returns that track's id.
func standInAnalysis(t *testing.T, s *server, slug string) int64 {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(s.dataDir, "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending, err := db.UnanalysedTracks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range pending {
		if err := db.SetTrackAnalysis(ctx, tr.ID, onair.Analysis{Loudness: -14.5, Peak: -1.2, CueOut: tr.Duration}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := db.StationBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for x := range 32 {
		for y := range 32 {
			img.Set(x, y, color.RGBA{uint8(8 * x), 40, uint8(8 * y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	// A track from before analysis (and art) existed, given its picture
	// the way ingest keeps one: beside the file, as <path>.art.
	tr := onair.Track{StationID: st.ID, Title: "Covered", Artist: "Painter", Path: "covered-art-test.mp3", Duration: 8 * time.Second, SampleRate: 44100, Channels: 2, ArtMIME: "image/png"}
	if err := db.AddTrack(ctx, &tr); err != nil {
		t.Fatal(err)
	}
	media := filepath.Join(s.dataDir, "media")
	if err := os.WriteFile(filepath.Join(media, tr.Path), fixture(t, "tone1320.mp3").data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(media, tr.Path+".art"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return tr.ID
}

func TestBrowserSoundSettings(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("alice")
	var st struct{ Slug string }
	s.must(201, "POST", "/api/stations", tok, map[string]string{"name": "Mix FM"}, &st)
	slug := st.Slug
	if status, res := s.upload(tok, slug, fixture(t, "tone440.mp3"), fixture(t, "tone880.mp3")); status != 201 || len(res.Tracks) != 2 {
		t.Fatalf("upload: %d %+v", status, res)
	}
	standInAnalysis(t, s, slug)
	b := newBrowser(t)
	b.dashboardLogin(s.URL, "alice", "owner-password")
	b.waitText(10*time.Second, "#st-name", "Mix FM")
	b.waitJS(10*time.Second, "the playlist", `document.querySelectorAll('#playlist li').length === 3`)
	// The figures ingest measured at upload, as the page rounds them.
	var listed struct{ Tracks []trackSoundJSON }
	s.must(200, "GET", "/api/stations/"+slug+"/tracks", "", nil, &listed)
	if l := listed.Tracks[0]; l.Loudness == nil || l.Peak == nil {
		t.Fatalf("uploaded track not analysed: %+v", l)
	} else if want := js[string](b, fmt.Sprintf(`'MP3 · ' + (%v).toFixed(1) + ' LUFS · peak ' + (%v).toFixed(1) + ' dBTP'`, *l.Loudness, *l.Peak)); b.text(`#playlist li:first-child .track-facts`) != want {
		t.Errorf("track facts %q, want %q", b.text(`#playlist li:first-child .track-facts`), want)
	}
	if got := b.text(`#playlist li:last-child .track-facts`); got != "MP3 · not analysed yet" {
		t.Errorf("facts of a track from before analysis: %q", got)
	}

	// Audio settings: the form shows the defaults, and saves a change.
	if got := js[string](b, `[...'#audio-crossfade #audio-target #audio-jingles #audio-bitrate #audio-rate'.split(' ')].map(s => document.querySelector(s).value).join(' ')`); got != "2 -16 0 128000 44100" {
		t.Errorf("audio form shows %q", got)
	}
	b.typeInto("#audio-crossfade", "4.5")
	b.typeInto("#audio-jingles", "3")
	js[bool](b, `(document.querySelector('#audio-bitrate').value = '192000', true)`)
	b.click("#audio-loudness") // off
	b.click(`#audio-form button[type=submit]`)
	b.waitText(10*time.Second, "#audio-saved", "Saved.")
	var got struct {
		Audio struct {
			SampleRate  int `json:"sample_rate"`
			MP3Bitrate  int `json:"mp3_bitrate"`
			CrossfadeMS int `json:"crossfade_ms"`
			Loudness    struct {
				Enabled    bool    `json:"enabled"`
				TargetLUFS float64 `json:"target_lufs"`
			} `json:"loudness"`
			JingleEvery int `json:"jingle_every"`
		} `json:"audio"`
	}
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &got)
	if a := got.Audio; a.CrossfadeMS != 4500 || a.JingleEvery != 3 || a.MP3Bitrate != 192000 || a.Loudness.Enabled || a.Loudness.TargetLUFS != -16 || a.SampleRate != 44100 {
		t.Fatalf("audio after saving the form: %+v", a)
	}
	// A refused value shows the server's reason and changes nothing.
	b.typeInto("#audio-crossfade", "4.5")
	js[bool](b, `(document.querySelector('#audio-crossfade').max = '99', true)`) // past the page's own check
	b.typeInto("#audio-crossfade", "20")
	b.click(`#audio-form button[type=submit]`)
	b.waitJS(10*time.Second, "the error", `!document.querySelector('#audio-error').hidden && document.querySelector('#audio-error').textContent.includes('crossfade_ms')`)
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &got)
	if got.Audio.CrossfadeMS != 4500 {
		t.Fatalf("a refused crossfade was saved: %+v", got.Audio)
	}

	// A track's kind, with the keyboard-reachable selector.
	kind := `#playlist select[aria-label="Kind of Tone 880 by Test Artist"]`
	js[bool](b, fmt.Sprintf(`(s => (s.value = 'jingle', s.dispatchEvent(new Event('change')), true))(document.querySelector(%q))`, kind))
	var tracks struct{ Tracks []trackSoundJSON }
	testutil.Eventually(t, 10*time.Second, "the kind saved", func() bool {
		s.must(200, "GET", "/api/stations/"+slug+"/tracks", "", nil, &tracks)
		return tracks.Tracks[1].Kind == "jingle"
	})
	b.waitJS(5*time.Second, "the row marked as a jingle", `document.querySelector('#playlist li:nth-child(2)').classList.contains('jingle')`)
	if focused := js[string](b, `document.activeElement.getAttribute('aria-label') || ''`); focused != "Kind of Tone 880 by Test Artist" {
		t.Errorf("focus after changing the kind: %q", focused)
	}

	// Cue points of the first track.
	first := tracks.Tracks[0]
	row := fmt.Sprintf(`#playlist li[data-id="%d"]`, first.ID)
	b.click(row + " details.cue summary")
	b.typeInto(row+" .cue-in", "0.5")
	b.typeInto(row+" .cue-out", "2.25")
	b.click(row + ` .cue-form button[type=submit]`)
	testutil.Eventually(t, 10*time.Second, "the cue points saved", func() bool {
		s.must(200, "GET", "/api/stations/"+slug+"/tracks", "", nil, &tracks)
		c := tracks.Tracks[0]
		return c.CueInMS != nil && *c.CueInMS == 500 && c.CueOutMS != nil && *c.CueOutMS == 2250
	})
	b.waitText(5*time.Second, row+" details.cue summary", "Cue 0.5–2.25 s of Tone 440 by Test Artist")
	// Out before in: the server's reason, nothing saved.
	b.typeInto(row+" .cue-in", "2")
	b.typeInto(row+" .cue-out", "1")
	b.click(row + ` .cue-form button[type=submit]`)
	b.waitJS(10*time.Second, "the cue error", `document.querySelector('#playlist-error').textContent.includes('cue_out_ms')`)
	s.must(200, "GET", "/api/stations/"+slug+"/tracks", "", nil, &tracks)
	if *tracks.Tracks[0].CueInMS != 500 {
		t.Fatalf("refused cue points saved: %+v", tracks.Tracks[0])
	}
	// No analysis is running, so no progress line.
	if js[bool](b, `!document.querySelector('#analysis').hidden`) {
		t.Errorf("analysis line shown: %q", b.text("#analysis"))
	}
	shootPhone(t, b, "dashboard-sound")
	b.checkClean()
}

func TestBrowserRecentlyPlayedAndArt(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	var created struct{ Slug string }
	s.must(201, "POST", "/api/stations", tok, map[string]string{"name": "History FM"}, &created)
	slug := created.Slug
	status, res := s.upload(tok, slug, fixture(t, "tone440.mp3"), fixture(t, "tone880.mp3"))
	if status != 201 || len(res.Tracks) != 2 {
		t.Fatalf("upload: %d %+v", status, res)
	}
	tracks := res.Tracks
	artTrack := standInAnalysis(t, s, slug)
	s.must(200, "POST", "/api/stations/"+slug+"/start", tok, nil, nil)
	artPath := fmt.Sprintf("/api/stations/%s/tracks/%d/art", slug, artTrack)
	b := newBrowser(t)

	b.open(s.URL + "/stations/" + slug)
	b.waitText(10*time.Second, "#np-title", "Tone 440")
	b.waitJS(10*time.Second, "one row in Recently played",
		`document.querySelectorAll('#history li').length === 1 && document.querySelector('#history .history-title').textContent === 'Tone 440'`)
	if js[bool](b, `!document.querySelector('#history-empty').hidden`) {
		t.Error(`"Nothing played yet" shown beside a played track`)
	}

	// A track change comes over the socket and tops the list at once; the
	// server's own list agrees.
	s.must(200, "POST", "/api/stations/"+slug+"/skip", tok, nil, nil)
	b.waitText(10*time.Second, "#np-title", "Tone 880")
	b.waitJS(10*time.Second, "Tone 880 on top of Recently played",
		`[...document.querySelectorAll('#history .history-title')].map(e => e.textContent).join('|') === 'Tone 880|Tone 440'`)
	var h struct {
		History []struct {
			TrackID int64 `json:"track_id"`
			Title   string
			Source  string
		}
	}
	testutil.Eventually(t, 10*time.Second, "two history rows from the API", func() bool {
		s.must(200, "GET", "/api/stations/"+slug+"/history", "", nil, &h)
		return len(h.History) == 2
	})
	if h.History[0].TrackID != tracks[1].ID || h.History[0].Source != "playlist" {
		t.Errorf("history %+v", h.History)
	}
	// The page's list, after its own refetch, still holds the same rows.
	b.waitJS(10*time.Second, "the list after the refetch",
		`[...document.querySelectorAll('#history .history-title')].map(e => e.textContent).join('|') === 'Tone 880|Tone 440'`)

	// Cover art: none for the tones, so no picture.
	if js[bool](b, `!document.querySelector('#np-art').hidden`) {
		t.Error("cover art shown for a track without any")
	}
	// The covered track plays: its art comes with the track change.
	s.must(200, "POST", "/api/stations/"+slug+"/start", tok, map[string]int64{"track_id": artTrack}, nil)
	b.waitText(10*time.Second, "#np-title", "Covered")
	b.waitJS(10*time.Second, "the cover art loaded",
		`(i => !i.hidden && i.complete && i.naturalWidth === 32 && i.getAttribute('src') === '`+artPath+`')(document.querySelector('#np-art'))`)
	if alt := js[string](b, `document.querySelector('#np-art').alt`); alt != "Cover art of Covered by Painter" {
		t.Errorf("art alt text %q", alt)
	}
	var st struct {
		NowPlaying struct {
			Art *string `json:"art"`
		} `json:"now_playing"`
	}
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if st.NowPlaying.Art == nil || *st.NowPlaying.Art != artPath {
		t.Errorf("now_playing.art %v, want %s", st.NowPlaying.Art, artPath)
	}
	shootPhone(t, b, "player-sound")

	// The directory shows a thumbnail of what plays.
	b.open(s.URL + "/")
	b.waitJS(10*time.Second, "the card's art",
		`(i => i && !i.hidden && i.complete && i.naturalWidth === 32 && i.getAttribute('src') === '`+artPath+`')(document.querySelector('.card.is-live .card-art'))`)
	b.checkClean()
}

// shootPhone saves the page at 390 px for a person to look at, and fails
// when anything is wider than the screen.
func shootPhone(t *testing.T, b *browser, name string) {
	t.Helper()
	dir := os.Getenv("ONAIR_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	b.screenshot(dir, name, 390, 844, true)
	if over := js[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
		t.Errorf("%s at 390 px is %d px wider than the screen", name, over)
	}
	b.screenshot(dir, name+"-desktop", 1280, 800, false)
}
