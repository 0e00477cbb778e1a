// Package audiotest checks what a listener really hears: it decodes what a
// client received and finds which of the fixtures' tones is in it. Tests
// only.
package audiotest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/onairfm/onair/ingest/mp3"
)

// Testdata is the absolute path of the repository's testdata directory.
func Testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Fixture returns the bytes of testdata/name.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Testdata(), name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// Power is the Goertzel power of freq in mono samples at rate, normalised
// by the signal's energy so that it is comparable between signals.
func Power(samples []float64, rate, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / rate
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, x := range samples {
		s := x + coeff*s1 - s2
		s2, s1 = s1, s
		energy += x * x
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	if energy == 0 {
		return 0
	}
	return p / (energy * float64(len(samples)) / 2)
}

// Dominant returns which of freqs is strongest in samples and how much of
// the signal's energy it holds (near 1 for a pure tone).
func Dominant(samples []float64, rate float64, freqs ...float64) (freq, share float64) {
	for _, f := range freqs {
		if p := Power(samples, rate, f); p > share {
			freq, share = f, p
		}
	}
	return freq, share
}

// RMS is the root mean square of samples.
func RMS(samples []float64) float64 {
	var sum float64
	for _, x := range samples {
		sum += x * x
	}
	if len(samples) == 0 {
		return 0
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// DecodeMP3 decodes an MP3 byte stream to mono samples in [-1, 1]. The
// stream may start anywhere, such as at an ICY metadata boundary in the
// middle of a frame: go-mp3 cannot resync and may lock onto a false header,
// so the frames are found first with the strict scanner of ingest/mp3.
// Even that can lock onto a false header pair at a stream's start (seen
// once: a "layer II" frame), so only Layer III frames of the format of the
// first one are kept, from the first that two more in a row confirm.
func DecodeMP3(data []byte) (samples []float64, rate int, err error) {
	var frames bytes.Buffer
	var kept []mp3.Frame
	sc := mp3.NewScanner(bytes.NewReader(data))
	for {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("audiotest: scan mp3: %w", err)
		}
		h := f.Header
		if h.Layer != 3 {
			continue
		}
		if len(kept) > 0 && len(kept) < 3 && !h.SameFormat(kept[0].Header) {
			kept = kept[:0] // the first was false: start again here
		}
		if len(kept) >= 3 && !h.SameFormat(kept[0].Header) {
			continue
		}
		f.Data = bytes.Clone(f.Data) // the scanner reuses its buffer
		kept = append(kept, f)
	}
	for _, f := range kept {
		frames.Write(f.Data)
	}
	d, err := gomp3.NewDecoder(&frames)
	if err != nil {
		return nil, 0, fmt.Errorf("audiotest: decode mp3: %w", err)
	}
	pcm, err := io.ReadAll(d)
	if err != nil && len(pcm) == 0 {
		return nil, 0, fmt.Errorf("audiotest: decode mp3: %w", err)
	}
	return StereoInt16ToMono(pcm), d.SampleRate(), nil
}

// ToneOfMP3 decodes some MP3 bytes and returns which of freqs is strongest
// in them, failing t unless that tone holds at least half of the energy:
// a listener that hears a mix or noise has not heard the tone.
func ToneOfMP3(t testing.TB, data []byte, freqs ...float64) float64 {
	t.Helper()
	s, rate, err := DecodeMP3(data)
	if err != nil {
		t.Fatal(err)
	}
	f, share := Dominant(s, float64(rate), freqs...)
	if share < 0.5 {
		t.Fatalf("no clear tone: best %v Hz with %.2f of the energy", f, share)
	}
	return f
}

// GarbageMP3Frames is two seconds of MPEG-1 layer III frames (128 kbit/s,
// 44.1 kHz) whose headers are valid and whose payloads are noise: every
// check short of decoding passes, so it is what a decoder must refuse. The
// noise is a fixed xorshift sequence, the same bytes on every call.
func GarbageMP3Frames() []byte {
	var out []byte
	x := uint64(1)
	for range 80 {
		f := make([]byte, 417)
		for i := range f {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			f[i] = byte(x)
		}
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x64})
		out = append(out, f...)
	}
	return out
}

// StereoInt16ToMono mixes little-endian 16-bit stereo PCM down to mono.
func StereoInt16ToMono(pcm []byte) []float64 {
	out := make([]float64, len(pcm)/4)
	for i := range out {
		l := int16(binary.LittleEndian.Uint16(pcm[4*i:]))
		r := int16(binary.LittleEndian.Uint16(pcm[4*i+2:]))
		out[i] = (float64(l) + float64(r)) / 65536
	}
	return out
}
