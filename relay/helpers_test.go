package relay

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
)

// fixtureTracks describes the fixtures the relay tests play.
var fixtureTracks = map[string]onair.Track{
	"tone440.mp3":       {Title: "Tone 440", Artist: "Test Artist", Bitrate: 128000, SampleRate: 44100, Channels: 2, Duration: 8045 * time.Millisecond},
	"tone880.mp3":       {Title: "Tone 880", Artist: "Test Artist", Bitrate: 128000, SampleRate: 44100, Channels: 2, Duration: 8045 * time.Millisecond},
	"tone1320.mp3":      {Title: "Tone 1320", Artist: "Other Artist", Bitrate: 128000, SampleRate: 44100, Channels: 2, Duration: 8045 * time.Millisecond},
	"tone660-48k.mp3":   {Title: "Tone 660 48k", Artist: "Test Artist", Bitrate: 128000, SampleRate: 48000, Channels: 2, Duration: 6024 * time.Millisecond},
	"tone440-320k.mp3":  {Title: "Tone 440 320k", Bitrate: 320000, SampleRate: 44100, Channels: 2, Duration: 5041 * time.Millisecond},
	"tone550-mono.mp3":  {Title: "Tone 550 mono", Bitrate: 64000, SampleRate: 44100, Channels: 1, Duration: 6034 * time.Millisecond},
	"tone700-mpeg2.mp3": {Title: "Tone 700 22k", Bitrate: 64000, SampleRate: 22050, Channels: 2, Duration: 5067 * time.Millisecond},
	"mpeg25-8k.mp3":     {Title: "MPEG 2.5", Bitrate: 16000, SampleRate: 8000, Channels: 1, Duration: 3168 * time.Millisecond},
}

// mediaDir copies the named fixtures into a temp media directory and
// returns them as tracks with IDs 1, 2, ...
func mediaDir(t *testing.T, names ...string) (string, []onair.Track) {
	t.Helper()
	dir := t.TempDir()
	var tracks []onair.Track
	for i, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), audiotest.Fixture(t, name), 0o600); err != nil {
			t.Fatal(err)
		}
		tr := fixtureTracks[name]
		tr.ID = int64(i + 1)
		tr.Path = name
		tr.Filename = name
		tracks = append(tracks, tr)
	}
	return dir, tracks
}

// recorder is a publisher that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []onair.Event
}

func (r *recorder) Publish(ev onair.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) all() []onair.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]onair.Event(nil), r.events...)
}
