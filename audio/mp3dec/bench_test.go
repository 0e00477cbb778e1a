package mp3dec

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/onairfm/onair/ingest/mp3"
)

// frames returns the audio frames of a test file, copied out of the
// scanner, and its sample rate.
func frames(t testing.TB, name string) ([][]byte, int) {
	t.Helper()
	file, err := os.ReadFile("../../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := mp3.NewScanner(bytes.NewReader(file))
	var out [][]byte
	rate := 0
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, rate
		}
		if err != nil {
			t.Fatal(err)
		}
		rate = f.SampleRate
		out = append(out, bytes.Clone(f.Data))
	}
}

// BenchmarkDecodeFrame decodes tone440.mp3 (128 kbit/s, 44.1 kHz, joint
// stereo) frame by frame, and go-mp3 on the same file for comparison.
func BenchmarkDecodeFrame(b *testing.B) {
	fs, rate := frames(b, "tone440.mp3")
	b.Run("mp3dec", func(b *testing.B) {
		d := New()
		dst := make([]float32, 2*1152)
		samples := 0
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if i == len(fs) {
				i = 0
				d.Reset()
			}
			n, err := d.DecodeFrame(fs[i], dst)
			if err != nil {
				b.Fatal(err)
			}
			samples += n / 2
			i++
		}
		b.ReportMetric(float64(samples)/float64(rate)/b.Elapsed().Seconds(), "x_realtime")
	})
	b.Run("go-mp3", func(b *testing.B) {
		file, err := os.ReadFile("../../testdata/tone440.mp3")
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 4*1152)
		samples := 0
		b.ReportAllocs()
		var dec *gomp3.Decoder
		for b.Loop() {
			if dec == nil {
				dec, err = gomp3.NewDecoder(bytes.NewReader(file))
				if err != nil {
					b.Fatal(err)
				}
			}
			n, err := io.ReadFull(dec, buf)
			samples += n / 4
			if err != nil {
				dec = nil
			}
		}
		b.ReportMetric(float64(samples)/float64(rate)/b.Elapsed().Seconds(), "x_realtime")
	})
}

// TestNoAllocs checks that decoding a frame allocates nothing.
func TestNoAllocs(t *testing.T) {
	fs, _ := frames(t, "tone440.mp3")
	d := New()
	dst := make([]float32, 2*1152)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := d.DecodeFrame(fs[i%len(fs)], dst); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame", allocs)
	}
}
