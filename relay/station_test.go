package relay

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/relay/icy"
)

// audioFrames returns the audio frames of a file as the scanner sees them.
func audioFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := mp3.NewScanner(f)
	var out [][]byte
	for {
		fr, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(fr.Data))
	}
}

// drive runs a station's clock by hand from its start to d, in steps of
// step, without its goroutine.
func drive(t *testing.T, s *station, d, step time.Duration) {
	t.Helper()
	for at := time.Duration(0); at <= d; at += step {
		if !s.play(s.clk.start.Add(at)) {
			t.Fatalf("station stopped at %v", at)
		}
	}
}

// held returns every chunk the ring holds.
func held(s *station) []*chunk {
	chunks, _, _, _ := s.ring.read(s.ring.oldest(), nil)
	return chunks
}

func TestStationPassesFramesThroughAndMarksTrackStart(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	rec := &recorder{}
	r := &Relay{MediaDir: dir, Publisher: rec, ChunkDuration: 100 * time.Millisecond}
	s, err := r.newStation(StationInfo{Slug: "t"}, tracks, PlayOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	if !s.startAt(0) {
		t.Fatal("no track")
	}
	s.announce = true
	drive(t, s, 9*time.Second, 20*time.Millisecond)

	var stream []byte
	var marks []int
	var titles []string
	for _, c := range held(s) {
		for _, m := range c.marks {
			title, _ := icy.ParseStreamTitle(m.block)
			if len(titles) == 0 || titles[len(titles)-1] != title {
				marks = append(marks, len(stream)+m.off)
				titles = append(titles, title)
			}
		}
		stream = append(stream, c.data...)
	}

	first := audioFrames(t, filepath.Join(dir, "tone440.mp3"))
	second := audioFrames(t, filepath.Join(dir, "tone880.mp3"))
	want := bytes.Join(first, nil)
	boundary := len(want)
	want = append(want, bytes.Join(second, nil)...)
	if !bytes.HasPrefix(want, stream) {
		t.Fatal("the stream is not the tracks' frames, passed through unchanged")
	}
	if len(stream) <= boundary {
		t.Fatalf("9 s of playout gave %d bytes, track 1 alone has %d", len(stream), boundary)
	}
	wantTitles := []string{"Test Artist - Tone 440", "Test Artist - Tone 880"}
	if len(titles) != 2 || titles[0] != wantTitles[0] || titles[1] != wantTitles[1] {
		t.Fatalf("titles %q, want %q", titles, wantTitles)
	}
	if marks[0] != 0 || marks[1] != boundary {
		t.Fatalf("title changes at bytes %v, want [0 %d] (the first byte of track 2)", marks, boundary)
	}

	// Track 2 started exactly when track 1's frames ran out.
	var np *onair.NowPlaying
	for _, ev := range rec.all() {
		if ev.Kind == onair.EventMetadata && ev.NowPlaying.TrackID == 2 {
			np = ev.NowPlaying
		}
	}
	if np == nil {
		t.Fatal("no metadata event for track 2")
	}
	track1 := time.Duration(len(first)) * 1152 * time.Second / 44100
	if got := np.StartedAt.Sub(s.clk.start); got != track1 {
		t.Fatalf("track 2 started at %v, want %v (track 1's length)", got, track1)
	}
	// The clock released audio up to now and no further than one frame.
	if pos := s.clk.pos(); pos < 9*time.Second || pos > 9*time.Second+27*time.Millisecond {
		t.Fatalf("after 9 s the clock released %v", pos)
	}
}

func TestStationSkipAndDeleteCurrent(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3", "tone1320.mp3")
	r := &Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond}
	s, err := r.newStation(StationInfo{Slug: "t"}, tracks, PlayOptions{Loop: false})
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	s.startAt(0)
	drive(t, s, time.Second, 20*time.Millisecond)

	if !s.nextTrack() || s.nowPlaying().TrackID != 2 {
		t.Fatalf("skip went to %d, want 2", s.nowPlaying().TrackID)
	}
	// Deleting the playing track moves on at once.
	if !s.setPlaylist([]onair.Track{tracks[0], tracks[2]}, false, false) {
		t.Fatal("station stopped after deleting the playing track")
	}
	if got := s.nowPlaying().TrackID; got != 3 {
		t.Fatalf("after deleting the playing track, playing %d, want 3", got)
	}
	// Without loop, skipping past the end stops the station.
	if s.nextTrack() {
		t.Fatal("skipping past the last track without loop did not stop")
	}
}

func TestStationStartsAtTrack(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	r := &Relay{MediaDir: dir}
	s, err := r.newStation(StationInfo{Slug: "t"}, tracks, PlayOptions{StartTrackID: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	s.startAt(2)
	if got := s.nowPlaying().TrackID; got != 2 {
		t.Fatalf("playing %d, want 2", got)
	}
}

func TestStationSkipsMissingFiles(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	os.Remove(filepath.Join(dir, "tone440.mp3"))
	r := &Relay{MediaDir: dir}
	s, err := r.newStation(StationInfo{Slug: "t"}, tracks, PlayOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	if !s.startAt(0) || s.nowPlaying().TrackID != 2 {
		t.Fatal("did not move past a missing file")
	}
	os.Remove(filepath.Join(dir, "tone880.mp3"))
	// Track 2 is open and plays to its end; then nothing is left.
	stopped := false
	for at := time.Duration(0); at < 20*time.Second && !stopped; at += 100 * time.Millisecond {
		stopped = !s.play(s.clk.start.Add(at))
	}
	if !stopped {
		t.Fatal("a station whose files are all gone kept running")
	}
}

func TestStationMetadataOverride(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	rec := &recorder{}
	r := &Relay{MediaDir: dir, Publisher: rec}
	s, err := r.newStation(StationInfo{Slug: "t"}, tracks, PlayOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	s.startAt(0)
	s.announce = true
	title, show := "Live Title", "Morning Show"
	s.setMetadata(onair.MetadataUpdate{Title: &title, Show: &show})
	np := s.nowPlaying()
	if np.Title != title || np.Artist != "Test Artist" || np.Show != show {
		t.Fatalf("now playing %+v", np)
	}
	if got, _ := icy.ParseStreamTitle(s.build.block); got != "Test Artist - Live Title" {
		t.Fatalf("ICY title %q", got)
	}
	// The next track brings its own title but keeps the show.
	s.nextTrack()
	np = s.nowPlaying()
	if np.Title != "Tone 880" || np.Show != show {
		t.Fatalf("after the next track: %+v", np)
	}
	evs := rec.all()
	if last := evs[len(evs)-1]; last.Kind != onair.EventMetadata || last.NowPlaying.Title != "Tone 880" {
		t.Fatalf("last event %+v", last)
	}
}
