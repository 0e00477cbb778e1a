package mp3dec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"testing"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/onairfm/onair/ingest/mp3"
)

// decodeAll decodes every audio frame of an MP3 file with a fresh Decoder
// and returns the interleaved stereo output and the sample rate.
func decodeAll(t testing.TB, file []byte) ([]float32, int) {
	t.Helper()
	d := New()
	s := mp3.NewScanner(bytes.NewReader(file))
	dst := make([]float32, 2*1152)
	var out []float32
	rate := 0
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		rate = f.SampleRate
		n, err := d.DecodeFrame(f.Data, dst)
		if err != nil {
			t.Fatalf("frame at %d: %v", f.Offset, err)
		}
		out = append(out, dst[:n]...)
	}
	return out, rate
}

// decodeGoMP3 decodes the file with go-mp3 (16-bit stereo) as a reference.
func decodeGoMP3(t testing.TB, file []byte) []int16 {
	t.Helper()
	dec, err := gomp3.NewDecoder(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("go-mp3: %v", err)
	}
	raw, err := io.ReadAll(dec)
	if err != nil {
		t.Fatalf("go-mp3: %v", err)
	}
	out := make([]int16, len(raw)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return out
}

// snrVs16 returns the signal-to-noise ratio in dB of ours (scaled to
// 16 bits, rounded and clipped as a 16-bit decoder does) against ref,
// over the overlap of the two when ours is shifted by lag values.
func snrVs16(ours []float32, ref []int16, lag int) float64 {
	var sig, noise float64
	for i, r := range ref {
		j := i + lag
		if j < 0 || j >= len(ours) {
			continue
		}
		v := math.Round(float64(ours[j]) * 32768)
		v = max(-32768, min(32767, v))
		sig += float64(r) * float64(r)
		e := v - float64(r)
		noise += e * e
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// bestSNR tries the alignments a frame boundary can explain (our scanner
// and go-mp3 may disagree on whether the first frame, the encoder's info
// frame, is audio) and returns the best SNR and its lag.
func bestSNR(ours []float32, ref []int16) (float64, int) {
	best, bestLag := math.Inf(-1), 0
	for lag := -2 * 2 * 1152; lag <= 2*2*1152; lag += 2 * 576 {
		if s := snrVs16(ours, ref, lag); s > best {
			best, bestLag = s, lag
		}
	}
	return best, bestLag
}

// TestAgainstGoMP3 needs no external tool: it decodes the repository's
// MP3 fixtures (MPEG-1 and 2, mono and stereo, CBR and VBR) and compares
// with go-mp3's 16-bit output, which our output, rounded to 16 bits,
// should match to within a few least significant bits.
func TestAgainstGoMP3(t *testing.T) {
	for _, name := range []string{"tone440.mp3", "tone440-320k.mp3", "tone550-mono.mp3", "tone660-48k.mp3",
		"tone700-mpeg2.mp3", "tone1000-vbr.mp3", "mono48-art.mp3"} {
		t.Run(name, func(t *testing.T) {
			file, err := os.ReadFile("../../testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			ours, _ := decodeAll(t, file)
			ref := decodeGoMP3(t, file)
			snr, lag := bestSNR(ours, ref)
			t.Logf("SNR %.1f dB (lag %d)", snr, lag/2)
			if snr < 70 {
				t.Errorf("SNR %.1f dB < 70", snr)
			}
		})
	}
}
