package decode

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/onairfm/onair"
)

// BenchmarkDecode decodes a whole file per iteration in 20 ms reads and
// reports the speed as a multiple of real time.
func BenchmarkDecode(b *testing.B) {
	for _, bb := range []struct{ name, file, format string }{
		{"mp3-128k-44k-stereo", "tone440.mp3", onair.FormatMP3},
		{"mp3-64k-48k-mono", "mono48-art.mp3", onair.FormatMP3},
		{"wav16-44k-stereo", "wav16-440.wav", onair.FormatWAV},
		{"wav24-48k-mono", "wav24-523-mono.wav", onair.FormatWAV},
		{"flac16-44k-stereo", "flac16-659.flac", onair.FormatFLAC},
		{"flac24-48k-mono", "flac24-784-mono.flac", onair.FormatFLAC},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var frames int64
			var rate int
			var buf []float32
			b.ReportAllocs()
			for b.Loop() {
				s, err := Open(path(bb.file), bb.format)
				if err != nil {
					b.Fatal(err)
				}
				if buf == nil {
					buf = make([]float32, s.SampleRate()/50*s.Channels())
				}
				rate = s.SampleRate()
				for {
					n, err := s.Read(buf)
					frames += int64(n / s.Channels())
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				_ = s.Close()
			}
			audio := float64(frames) / float64(rate)
			b.ReportMetric(audio/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}

// BenchmarkSeek seeks to the middle of a file and reads 20 ms.
func BenchmarkSeek(b *testing.B) {
	for _, bb := range []struct{ name, file, format string }{
		{"mp3", "tone440.mp3", onair.FormatMP3},
		{"wav", "wav16-440.wav", onair.FormatWAV},
		{"flac", "flac16-659.flac", onair.FormatFLAC},
	} {
		b.Run(bb.name, func(b *testing.B) {
			s, err := Open(path(bb.file), bb.format)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			buf := make([]float32, s.SampleRate()/50*s.Channels())
			mid := int64(s.SampleRate() / 2)
			for b.Loop() {
				if err := s.SeekFrame(mid); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzOpen opens arbitrary bytes as each format and reads them to the end:
// errors are fine, panics and endless loops are not.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"wav16-440.wav", "wavext24-587.wav", "flac16-659.flac", "tone700-mpeg2.mp3", "mono48-art.mp3", "wav-adpcm.wav"} {
		data, err := os.ReadFile(path(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), 3<<10)])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "x")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		formats := []string{onair.FormatMP3, onair.FormatWAV, onair.FormatFLAC}
		if f, ok := Detect(data); ok {
			formats = []string{f}
		}
		buf := make([]float32, 1764)
		for _, format := range formats {
			s, err := Open(p, format)
			if err != nil {
				continue
			}
			if c := s.Channels(); c < 1 || c > 2 || s.SampleRate() <= 0 {
				t.Fatalf("%s: %d channels at %d Hz", format, c, s.SampleRate())
			}
			for i := 0; ; i++ {
				if i > 1<<16 {
					t.Fatalf("%s: Read never ends", format)
				}
				n, err := s.Read(buf)
				if n%s.Channels() != 0 || n > len(buf) {
					t.Fatalf("%s: Read returned %d", format, n)
				}
				if err != nil {
					break
				}
			}
			_ = s.SeekFrame(100)
			_, _ = s.Read(buf)
			_ = s.Close()
		}
	})
}
