package mp3enc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/testutil"
)

// sine returns secs seconds of an interleaved tone at freq Hz, amplitude
// 0.5, on every channel.
func sine(rate, channels int, freq, secs float64) []float32 {
	n := int(float64(rate) * secs)
	pcm := make([]float32, n*channels)
	for i := range n {
		v := float32(0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for c := range channels {
			pcm[i*channels+c] = v
		}
	}
	return pcm
}

type frame struct {
	data []byte
	at   int64
}

// encodeAll feeds pcm in uneven chunks, as a mixer would, and returns the
// frames, copied.
func encodeAll(t testing.TB, e *Encoder, pcm []float32) []frame {
	t.Helper()
	var frames []frame
	emit := func(f []byte, at int64) {
		frames = append(frames, frame{bytes.Clone(f), at})
	}
	for chunk := 1; len(pcm) > 0; chunk = chunk*7%4099 + 1 {
		n := min(chunk*e.channels, len(pcm))
		if err := e.Encode(pcm[:n], emit); err != nil {
			t.Fatalf("encode: %v", err)
		}
		pcm = pcm[n:]
	}
	return frames
}

func join(frames []frame) []byte {
	var b bytes.Buffer
	for _, f := range frames {
		b.Write(f.data)
	}
	return b.Bytes()
}

// ffmpegClean decodes data with ffmpeg and fails on anything it reports.
func ffmpegClean(t *testing.T, data []byte) {
	t.Helper()
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "x.mp3")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
}

// ffmpegDecode decodes data with ffmpeg to mono at rate, failing on
// anything ffmpeg reports.
func ffmpegDecode(t *testing.T, data []byte, rate, channels int) []float64 {
	t.Helper()
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "x.mp3")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", path,
		"-f", "s16le", "-ac", itoa(channels), "-ar", itoa(rate), "-")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.Bytes())
	}
	if channels == 2 {
		return audiotest.StereoInt16ToMono(stdout.Bytes())
	}
	pcm := stdout.Bytes()
	out := make([]float64, len(pcm)/2)
	for i := range out {
		out[i] = float64(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) / 32768
	}
	return out
}

func TestEncodeTones(t *testing.T) {
	tests := []struct {
		rate, channels, bitrate int
		freq                    float64
	}{
		{44100, 2, 128000, 1000},
		{44100, 2, 128000, 440},
		{48000, 2, 128000, 1000},
		{48000, 2, 192000, 440},
		{44100, 2, 320000, 1000},
		{32000, 2, 96000, 440},
		{16000, 1, 24000, 1000},
		{12000, 2, 64000, 440},
		{8000, 1, 16000, 440},
		{24000, 2, 64000, 440},
		{22050, 1, 32000, 1000},
	}
	for _, tt := range tests {
		name := strings.Join([]string{
			itoa(tt.rate), itoa(tt.channels) + "ch", itoa(tt.bitrate / 1000), itoa(int(tt.freq)) + "Hz",
		}, "/")
		t.Run(name, func(t *testing.T) {
			e, err := New(tt.rate, tt.channels, tt.bitrate)
			if err != nil {
				t.Fatal(err)
			}
			secs := 3.0
			frames := encodeAll(t, e, sine(tt.rate, tt.channels, tt.freq, secs))
			spf := e.SamplesPerFrame()
			if want := int(secs*float64(tt.rate))/spf - 1; len(frames) < want {
				t.Fatalf("%d frames, want at least %d", len(frames), want)
			}
			var total int
			lat := e.lim.Latency()
			for i, f := range frames {
				if f.at != int64(i*spf-lat) {
					t.Fatalf("frame %d at %d, want %d (the limiter's look-ahead before it)", i, f.at, i*spf-lat)
				}
				h, err := mp3.ParseHeader(f.data)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if h.Layer != 3 || h.SampleRate != tt.rate || h.Bitrate != tt.bitrate ||
					h.Channels != tt.channels || h.Samples != spf || h.FrameSize != len(f.data) {
					t.Fatalf("frame %d: header %+v, %d bytes", i, h, len(f.data))
				}
				total += len(f.data)
			}
			// Constant bitrate, padding included.
			dur := float64(len(frames)*spf) / float64(tt.rate)
			if got := float64(total*8) / dur; math.Abs(got-float64(tt.bitrate)) > 0.01*float64(tt.bitrate) {
				t.Errorf("measured %.0f bit/s, want %d", got, tt.bitrate)
			}

			data := join(frames)
			check := func(decoder string, samples []float64) {
				t.Helper()
				body := samples[len(samples)/4 : len(samples)*3/4]
				freq, share := audiotest.Dominant(body, float64(tt.rate), 440, 1000, 1500)
				if freq != tt.freq || share < 0.9 {
					t.Errorf("%s: decoded tone %v Hz holding %.2f of the energy, want %v Hz",
						decoder, freq, share, tt.freq)
				}
				if rms := audiotest.RMS(body); math.Abs(rms-0.5/math.Sqrt2) > 0.05 {
					t.Errorf("%s: decoded RMS %.3f, want about %.3f", decoder, rms, 0.5/math.Sqrt2)
				}
			}
			if tt.rate >= 16000 { // go-mp3 has no MPEG-2.5
				samples, rate, err := audiotest.DecodeMP3(data)
				if err != nil {
					t.Fatal(err)
				}
				if rate != tt.rate {
					t.Fatalf("go-mp3 decoded at %d Hz", rate)
				}
				check("go-mp3", samples)
			}
			check("ffmpeg", ffmpegDecode(t, data, tt.rate, tt.channels))
		})
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}

// TestJoinAnywhere decodes streams cut at arbitrary frames, as a listener
// who connects mid-stream receives them: no frame depends on an earlier
// one through the bit reservoir.
func TestJoinAnywhere(t *testing.T) {
	e, err := New(44100, 2, 128000)
	if err != nil {
		t.Fatal(err)
	}
	frames := encodeAll(t, e, sine(44100, 2, 1000, 2))
	for _, k := range []int{1, 7, 30, 61} {
		data := join(frames[k:])
		samples, _, err := audiotest.DecodeMP3(data)
		if err != nil {
			t.Fatalf("join at %d: %v", k, err)
		}
		// Skip the first frame, which may click without its overlap.
		if freq, share := audiotest.Dominant(samples[1152:], 44100, 440, 1000); freq != 1000 || share < 0.9 {
			t.Errorf("join at %d: %v Hz holding %.2f", k, freq, share)
		}
		ffmpegClean(t, data)
	}
}

// TestDelay measures where a tone starting at input sample 'onset' starts
// in the decoded output, which is what the at of Encode is offset by.
func TestDelay(t *testing.T) {
	const rate, onset = 44100, 10000
	pcm := sine(44100, 2, 1000, 1)
	clear(pcm[:2*onset])
	e, err := New(rate, 2, 128000)
	if err != nil {
		t.Fatal(err)
	}
	samples, _, err := audiotest.DecodeMP3(join(encodeAll(t, e, pcm)))
	if err != nil {
		t.Fatal(err)
	}
	start := -1
	for i, v := range samples {
		if math.Abs(v) > 0.05 {
			start = i
			break
		}
	}
	// go-mp3 decodes without removing its own 529-sample delay.
	t.Logf("a tone starting at input sample %d is heard from decoded sample %d: delay %d",
		onset, start, start-onset)
	if d := start - onset; d < 0 || d > 2*1152+e.lim.Latency() {
		t.Errorf("delay %d samples", d)
	}
}

func TestClipping(t *testing.T) {
	in := []float32{0, 0.5, -0.5, 1, -1, 1.5, -1.5, 1e9, -1e9, float32(math.NaN()),
		float32(math.Inf(1)), float32(math.Inf(-1)), 1.0 / 32768, -1.0 / 32768, 0.4 / 32768, 0.6 / 32768}
	want := []int16{0, 16384, -16384, 32767, -32768, 32767, -32768, 32767, -32768, 0,
		32767, -32768, 1, -1, 0, 1}
	got := make([]int16, len(in))
	toInt16(got, in)
	for i := range in {
		if got[i] != want[i] {
			t.Errorf("%v -> %d, want %d", in[i], got[i], want[i])
		}
	}

	// A clipped full-scale square wave still encodes to valid frames.
	e, err := New(48000, 2, 128000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]float32, 2*48000)
	for i := range pcm {
		pcm[i] = 4
		if i/200%2 == 0 {
			pcm[i] = -4
		}
	}
	ffmpegClean(t, join(encodeAll(t, e, pcm)))
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		rate, channels, bitrate int
		want                    error
	}{
		{44100, 3, 128000, ErrChannels},
		{44100, 0, 128000, ErrChannels},
		{44100, 1, 64000, ErrChannels}, // shine's MPEG-1 mono frames are broken
		{96000, 2, 128000, ErrRate},
		{0, 2, 128000, ErrRate},
		{44100, 2, 127000, ErrBitrate},
		{44100, 2, 128001, ErrBitrate},
		{44100, 2, 16000, ErrBitrate},  // MPEG-2 only
		{44100, 2, 384000, ErrBitrate}, // Layer I/II only
		{22050, 2, 192000, ErrBitrate}, // MPEG-1 only
		{11025, 2, 80000, ErrBitrate},  // above shine's MPEG-2.5 table
		{44100, 2, 0, ErrBitrate},
		{44100, 2, -128000, ErrBitrate},
	}
	for _, tt := range tests {
		_, err := New(tt.rate, tt.channels, tt.bitrate)
		if !errors.Is(err, tt.want) {
			t.Errorf("New(%d, %d, %d) = %v, want %v", tt.rate, tt.channels, tt.bitrate, err, tt.want)
		}
	}
}

func TestReset(t *testing.T) {
	pcm := sine(44100, 2, 440, 0.5)
	e, err := New(44100, 2, 128000)
	if err != nil {
		t.Fatal(err)
	}
	first := encodeAll(t, e, pcm)
	// Leave a partial frame buffered and output pending, then start over.
	encodeAll(t, e, sine(44100, 2, 1000, 0.1))
	e.Reset()
	again := encodeAll(t, e, pcm)
	if !bytes.Equal(join(first), join(again)) || again[0].at != -int64(e.lim.Latency()) {
		t.Fatal("after Reset the encoder did not produce what a new one does")
	}
}

func TestNoAllocs(t *testing.T) {
	e, err := New(44100, 2, 128000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := sine(44100, 2, 440, 0.1)
	emit := func([]byte, int64) {}
	encodeAll(t, e, pcm) // warm up
	if n := testing.AllocsPerRun(20, func() {
		if err := e.Encode(pcm, emit); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per Encode", n)
	}
}

// BenchmarkEncode encodes one second of 44.1 kHz stereo at 128 kbit/s per
// op, fed in 10 ms blocks.
func BenchmarkEncode(b *testing.B) {
	e, err := New(44100, 2, 128000)
	if err != nil {
		b.Fatal(err)
	}
	pcm := sine(44100, 2, 440, 1)
	emit := func([]byte, int64) {}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		for block := pcm; len(block) > 0; block = block[882:] {
			if err := e.Encode(block[:882], emit); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "x_realtime")
}

// TestLevelAndNoOverflowNearFullScale: what decodes has the level of the
// input (shine's +1 dB is taken out), and loud low tones, which overflow
// shine's filter bank above about -3 dBFS, decode clean and under the
// headroom instead of clipped.
func TestLevelAndNoOverflowNearFullScale(t *testing.T) {
	for _, c := range []struct{ freq, db float64 }{
		{100, -12}, {440, -12}, {3000, -12},
		{100, -1}, {440, -1}, {3000, -1}, {8000, -0.5},
	} {
		e, err := New(44100, 2, 128000)
		if err != nil {
			t.Fatal(err)
		}
		amp := math.Pow(10, c.db/20)
		pcm := sine(44100, 2, c.freq, 2)
		for i := range pcm {
			pcm[i] *= float32(amp / 0.5)
		}
		s, _, err := audiotest.DecodeMP3(join(encodeAll(t, e, pcm)))
		if err != nil {
			t.Fatal(err)
		}
		s = s[44100/2 : len(s)-44100/4] // past the start and the limiter's attack
		var peak float64
		for _, x := range s {
			peak = math.Max(peak, math.Abs(x))
		}
		gain := 20 * math.Log10(audiotest.RMS(s)/(amp/math.Sqrt2))
		peakDB := 20 * math.Log10(peak)
		t.Logf("%5.0f Hz at %5.1f dBFS: decoded peak %6.2f dBFS, level %+.2f dB", c.freq, c.db, peakDB, gain)
		if peakDB > headroomDB+shineDB+0.3 {
			t.Errorf("%v Hz at %v dBFS decodes at %.2f dBFS: over the headroom", c.freq, c.db, peakDB)
		}
		if c.db < headroomDB && math.Abs(gain) > 0.15 {
			t.Errorf("%v Hz at %v dBFS decodes %+.2f dB off its level", c.freq, c.db, gain)
		}
	}
}

// shineDB is shine's own gain, in dB, that shineScale takes out.
var shineDB = -20 * math.Log10(shineScale)
