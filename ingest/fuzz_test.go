package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
)

// FuzzIngest feeds arbitrary bytes to Ingest: each must give a Track or an
// *onair.Error, never a panic, and never leave a file behind it did not
// report.
func FuzzIngest(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(testdata, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// Short prefixes are rejected early; 12 KiB of the 64 kbit/s
		// files is long enough to be accepted, so both paths are fuzzed.
		f.Add(b[:min(len(b), 2048)])
		f.Add(b[:min(len(b), 12<<10)])
	}
	f.Add([]byte{})
	f.Add(audiotest.GarbageMP3Frames()[:417*30])
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		in := &Ingester{MediaDir: dir, MaxBytes: 1 << 20, noSync: true}
		tr, err := in.Ingest(context.Background(), "fuzz", bytes.NewReader(data))
		if err != nil {
			var oe *onair.Error
			if !errors.As(err, &oe) {
				t.Fatalf("not an *onair.Error: %v", err)
			}
			if got := entries(t, dir); len(got) != 0 {
				t.Fatalf("rejected upload left %v", got)
			}
			return
		}
		if tr.Size != int64(len(data)) || tr.Duration < MinDuration || tr.Title == "" ||
			tr.SampleRate == 0 || tr.Bitrate == 0 || tr.Channels < 1 || tr.Channels > 2 {
			t.Fatalf("accepted with odd fields: %+v", tr)
		}
		for _, s := range []string{tr.Title, tr.Artist, tr.Album} {
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxTextRunes {
				t.Fatalf("tag %q is not clean", s)
			}
		}
		want := []string{tr.Path}
		if tr.ArtMIME != "" {
			want = append(want, tr.Path+".art")
		}
		if got := entries(t, dir); !slices.Equal(got, want) {
			t.Fatalf("MediaDir holds %v, want only %v", got, want)
		}
		if err := in.Remove(tr); err != nil {
			t.Fatal(err)
		}
	})
}
