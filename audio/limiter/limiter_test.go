package limiter

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onairfm/onair/audio/analysis"
	"github.com/onairfm/onair/internal/testutil"
)

const ceiling = -1.0 // dBTP, the station's

// Signals, interleaved stereo unless said otherwise.

func sine(rate, ch int, freq, dbfs, d float64) []float32 {
	a := math.Pow(10, dbfs/20)
	n := int(d * float64(rate))
	pcm := make([]float32, n*ch)
	for i := range n {
		v := float32(a * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)+0.3))
		for c := range ch {
			pcm[i*ch+c] = v
		}
	}
	return pcm
}

func square(rate int, freq, dbfs, d float64) []float32 {
	pcm := sine(rate, 2, freq, dbfs, d)
	a := float32(math.Pow(10, dbfs/20))
	for i, v := range pcm {
		pcm[i] = a
		if v < 0 {
			pcm[i] = -a
		}
	}
	return pcm
}

// drums: silence broken every 250 ms by a burst of noise at +6 dBFS that
// starts at full level and decays in 30 ms, decorrelated between channels
// — onsets no look-ahead-less limiter could catch.
func drums(rate int, d float64) []float32 {
	rng := rand.New(rand.NewPCG(7, 8))
	n := int(d * float64(rate))
	pcm := make([]float32, 2*n)
	a := math.Pow(10, 6.0/20)
	for i := range n {
		t := float64(i%(rate/4)) / float64(rate)
		env := a * math.Exp(-t/0.03)
		pcm[2*i] = float32(env * math.Max(-1, math.Min(1, rng.NormFloat64()/2)))
		pcm[2*i+1] = float32(env * math.Max(-1, math.Min(1, rng.NormFloat64()/2)))
	}
	return pcm
}

func noise(n int, sigma float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	pcm := make([]float32, n)
	for i := range pcm {
		pcm[i] = float32(rng.NormFloat64() * sigma)
	}
	return pcm
}

// run limits pcm in chunks of random sizes, then flushes the delay line
// with silence, and returns the output aligned with the input.
func run(l *Limiter, ch int, pcm []float32, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	buf := append(append([]float32(nil), pcm...), make([]float32, l.Latency()*ch)...)
	for rest := buf; len(rest) > 0; {
		n := min(len(rest), ch*rng.IntN(3000))
		l.Process(rest[:n])
		rest = rest[n:]
	}
	return buf[l.Latency()*ch:]
}

func truePeak(t *testing.T, rate, ch int, pcm []float32) float64 {
	t.Helper()
	a := analysis.New(rate, ch)
	a.Write(pcm)
	res, err := a.Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.Peak
}

func TestLatency(t *testing.T) {
	for _, rate := range []int{44100, 48000} {
		l := New(rate, 2, ceiling)
		if ms := float64(l.Latency()) / float64(rate) * 1000; ms < 5 || ms > 6 {
			t.Errorf("%d Hz: latency %d frames, %.2f ms", rate, l.Latency(), ms)
		}
	}
}

// Under the ceiling the limiter is a delay and nothing else.
func TestTransparentBelowCeiling(t *testing.T) {
	tests := []struct {
		name     string
		rate, ch int
		pcm      []float32
	}{
		{"sine -3 dBFS", 44100, 2, sine(44100, 2, 1000, -3, 3)},
		{"sine -1.5 dBFS mono", 48000, 1, sine(48000, 1, 440, -1.5, 3)},
		{"noise -20 dBFS rms", 44100, 2, noise(44100*2*3, 0.1, 1)},
		{"silence", 48000, 2, make([]float32, 48000*2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.rate, tt.ch, ceiling)
			out := run(l, tt.ch, tt.pcm, 1)
			for i := range tt.pcm {
				if math.Abs(float64(out[i]-tt.pcm[i])) > 1e-6 {
					t.Fatalf("sample %d: %g in, %g out", i, tt.pcm[i], out[i])
				}
			}
		})
	}
}

type loud struct {
	name     string
	rate, ch int
	pcm      []float32
}

func loudSignals() []loud {
	return []loud{
		{"sine 1 kHz +6 dBFS", 44100, 2, sine(44100, 2, 1000, 6, 3)},
		{"sine 9 kHz +6 dBFS 48k", 48000, 2, sine(48000, 2, 9000, 6, 3)},
		{"sine 100 Hz +12 dBFS mono", 44100, 1, sine(44100, 1, 100, 12, 3)},
		{"square 441 Hz +6 dBFS", 44100, 2, square(44100, 441, 6, 3)},
		{"drum hits +6 dBFS", 44100, 2, drums(44100, 4)},
		{"noise +6 dBFS peak 48k", 48000, 2, noise(48000*2*3, 0.5, 3)},
		{"quiet then loud", 44100, 2, append(sine(44100, 2, 220, -20, 1), sine(44100, 2, 3000, 3, 2)...)},
	}
}

// Loud signals come out with their true peak at or under the ceiling, by
// this package's own meter.
func TestCeiling(t *testing.T) {
	for _, tt := range loudSignals() {
		t.Run(tt.name, func(t *testing.T) {
			in := truePeak(t, tt.rate, tt.ch, tt.pcm)
			out := run(New(tt.rate, tt.ch, ceiling), tt.ch, tt.pcm, 3)
			got := truePeak(t, tt.rate, tt.ch, out)
			t.Logf("true peak %.2f dBTP in, %.3f out", in, got)
			if got > ceiling+0.1 {
				t.Errorf("true peak out %.3f dBTP, ceiling %.1f", got, ceiling)
			}
			if got < ceiling-1 {
				t.Errorf("true peak out %.3f dBTP: limits far more than it needs to", got)
			}
		})
	}
}

// ffmpeg's ebur128 agrees that the output is under the ceiling.
func TestCeilingFFmpeg(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	for _, tt := range loudSignals() {
		t.Run(tt.name, func(t *testing.T) {
			// ffmpeg reads a file that starts mid-waveform up to 0.5 dB
			// high (its resampler's start, not the signal: the same tone
			// after silence reads right), so the signals start with 100 ms
			// of silence here.
			pcm := append(make([]float32, tt.rate/10*tt.ch), tt.pcm...)
			out := run(New(tt.rate, tt.ch, ceiling), tt.ch, pcm, 4)
			got := ffmpegTruePeak(t, ffmpeg, out, tt.rate, tt.ch)
			t.Logf("ffmpeg true peak %.3f dBTP", got)
			if got > ceiling+0.1 {
				t.Errorf("ffmpeg true peak %.3f dBTP, ceiling %.1f", got, ceiling)
			}
		})
	}
}

// ffmpegTruePeak returns the true peak, dBTP, that ffmpeg's ebur128
// (peak=true) reads in pcm, to the three decimals its frame metadata has.
func ffmpegTruePeak(t *testing.T, ffmpeg string, pcm []float32, rate, ch int) float64 {
	t.Helper()
	// Not t.TempDir: its name holds the test's, which the filter options
	// would have to escape.
	dir, err := os.MkdirTemp("", "limiter")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var raw bytes.Buffer
	if err := binary.Write(&raw, binary.LittleEndian, pcm); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.f32")
	if err := os.WriteFile(in, raw.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(dir, "meta.txt")
	cmd := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-v", "error",
		"-f", "f32le", "-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(ch), "-i", in,
		"-af", "ebur128=peak=true:metadata=1,ametadata=mode=print:file="+meta,
		"-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	text, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	peak := 0.0
	for _, line := range strings.Split(string(text), "\n") {
		if v, ok := strings.CutPrefix(line, "lavfi.r128.true_peak="); ok {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			peak = max(peak, x)
		}
	}
	if peak == 0 {
		t.Fatal("ffmpeg reported no true peak")
	}
	return 20 * math.Log10(peak)
}

// Linked stereo: a loud left channel turns the right down with it, so the
// image does not lean.
func TestLinkedStereo(t *testing.T) {
	const rate = 44100
	pcm := sine(rate, 2, 500, 6, 2)
	for i := 1; i < len(pcm); i += 2 {
		pcm[i] = float32(0.1 * math.Sin(2*math.Pi*1234*float64(i/2)/rate))
	}
	out := run(New(rate, 2, ceiling), 2, pcm, 5)
	checked := 0
	for i := 0; i < len(pcm); i += 2 {
		l, r := pcm[i], pcm[i+1]
		if math.Abs(float64(l)) < 0.1 || math.Abs(float64(r)) < 0.01 {
			continue
		}
		gl, gr := out[i]/l, out[i+1]/r
		if math.Abs(float64(gl-gr)) > 1e-4 {
			t.Fatalf("frame %d: gain %g left, %g right", i/2, gl, gr)
		}
		checked++
	}
	if checked < rate {
		t.Fatalf("only %d frames checked", checked)
	}
}

func TestReset(t *testing.T) {
	l := New(48000, 2, ceiling)
	loud := sine(48000, 2, 1000, 6, 0.5)
	l.Process(loud)
	l.Reset()
	quiet := sine(48000, 2, 1000, -10, 0.5)
	out := run(l, 2, quiet, 6)
	for i := range quiet {
		if out[i] != quiet[i] {
			t.Fatalf("sample %d after Reset: %g in, %g out", i, quiet[i], out[i])
		}
	}
}

func TestProcessDoesNotAllocate(t *testing.T) {
	l := New(44100, 2, ceiling)
	pcm := sine(44100, 2, 1000, 6, 0.1)
	if n := testing.AllocsPerRun(20, func() { l.Process(pcm) }); n != 0 {
		t.Errorf("%v allocations per Process", n)
	}
}

// BenchmarkLimiter runs 44.1 kHz stereo in 1024-frame chunks; x_realtime
// is how many seconds of audio one second of one core limits.
func BenchmarkLimiter(b *testing.B) {
	for _, sig := range []struct {
		name string
		pcm  []float32
	}{
		{"under ceiling", noise(44100*2*10, 0.12, 9)},
		{"limiting", noise(44100*2*10, 0.5, 10)},
		{"sine under ceiling", sine(44100, 2, 440, -3, 10)},
		// The station's benchmark case: a tone whose samples reach just
		// over the threshold, so that no bound can skip the runs near
		// its crests.
		{"sine at ceiling", sine(44100, 2, 440, -1, 10)},
	} {
		b.Run(sig.name, func(b *testing.B) {
			l := New(44100, 2, ceiling)
			buf := make([]float32, len(sig.pcm))
			b.SetBytes(int64(len(buf) * 4))
			b.ResetTimer()
			for b.Loop() {
				copy(buf, sig.pcm)
				for p := buf; len(p) > 0; p = p[min(len(p), 2048):] {
					l.Process(p[:min(len(p), 2048)])
				}
			}
			b.ReportMetric(float64(b.N)*10/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}

// The gain moves in a ramp, never a step (a step is a click): from 0.5 to
// a constant 2.0 the gain, out/in frame by frame, falls by at most 1/look
// of full scale a frame, and it is down before the loud part comes out.
func TestGainIsSmooth(t *testing.T) {
	const rate = 48000
	pcm := make([]float32, 2*rate)
	for i := range pcm {
		pcm[i] = 0.5
		if i >= rate {
			pcm[i] = 2
		}
	}
	l := New(rate, 2, ceiling)
	look := float64(l.look)
	out := run(l, 2, pcm, 7)
	prev := 1.0
	for i := 0; i < len(pcm); i += 2 {
		g := float64(out[i] / pcm[i])
		if math.Abs(g-prev) > 1.0001/look {
			t.Fatalf("frame %d: gain %g after %g, a step of more than 1/%v", i/2, g, prev, look)
		}
		if out[i] > 0.9 {
			t.Fatalf("frame %d: %g out, over the ceiling", i/2, out[i])
		}
		prev = g
	}
}

func TestSamplePeakHoldsSamples(t *testing.T) {
	const rate = 44100
	l := NewSamplePeak(rate, 2, -4)
	ceiling := math.Pow(10, -4.0/20)
	for _, amp := range []float64{0.3, 2} {
		l.Reset()
		n := rate
		pcm := make([]float32, 2*n)
		for i := range n {
			v := float32(amp * math.Sin(2*math.Pi*440*float64(i)/rate))
			pcm[2*i], pcm[2*i+1] = v, v
		}
		in := append([]float32(nil), pcm...)
		l.Process(pcm)
		lat := l.Latency()
		for i := 2 * lat; i < len(pcm); i++ {
			v := math.Abs(float64(pcm[i]))
			if v > ceiling+1e-6 {
				t.Fatalf("amplitude %v: sample %d at %.4f over the ceiling %.4f", amp, i, v, ceiling)
			}
			if amp < ceiling && pcm[i] != in[i-2*lat] {
				t.Fatalf("amplitude %v under the ceiling: sample %d changed", amp, i)
			}
		}
	}
}
