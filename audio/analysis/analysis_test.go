package analysis

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// tone returns d seconds of a sine at freq Hz, peak amplitude dbfs, the
// same in every channel, starting at phase (radians).
func tone(rate, ch int, freq, dbfs, d, phase float64) []float32 {
	a := math.Pow(10, dbfs/20)
	n := int(d * float64(rate))
	pcm := make([]float32, n*ch)
	for i := range n {
		v := float32(a * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)+phase))
		for c := range ch {
			pcm[i*ch+c] = v
		}
	}
	return pcm
}

// fade shapes the first and last 50 ms of pcm with a raised cosine: a
// tone that starts abruptly overshoots its crest (Gibbs), truly.
func fade(rate, ch int, pcm []float32) []float32 {
	n := len(pcm) / ch
	f := rate / 20
	for i := range min(f, n/2) {
		g := float32(0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(f)))
		for c := range ch {
			pcm[i*ch+c] *= g
			pcm[(n-1-i)*ch+c] *= g
		}
	}
	return pcm
}

func silence(rate, ch int, d float64) []float32 {
	return make([]float32, int(d*float64(rate))*ch)
}

func concat(parts ...[]float32) []float32 {
	var out []float32
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func measure(t *testing.T, rate, ch int, pcm []float32) Analysis {
	t.Helper()
	a := New(rate, ch)
	a.Write(pcm)
	res, err := a.Result()
	if err != nil {
		t.Fatalf("Result: %v", err)
	}
	return Analysis(res)
}

// Analysis is onair.Analysis, named here to keep the tables short.
type Analysis = struct {
	Loudness, Peak float64
	CueIn, CueOut  time.Duration
}

// EBU Tech 3341 cases that a generator can make, and the plain facts of
// BS.1770: a 1 kHz sine at -23 dBFS in both channels reads -23 LUFS (the
// K-weighting gain at 1 kHz and the -0.691 offset cancel, the two
// channels make up the sine's 3 dB RMS), in one channel 3 dB less.
func TestLoudnessKnownValues(t *testing.T) {
	type seg struct{ dbfs, d float64 }
	tests := []struct {
		name     string
		rate, ch int
		segs     []seg
		want     float64
	}{
		{"3341 case 1 stereo -23", 48000, 2, []seg{{-23, 20}}, -23},
		{"3341 case 2 stereo -33", 48000, 2, []seg{{-33, 20}}, -33},
		{"3341 case 3 gating -36/-23/-36", 48000, 2, []seg{{-36, 10}, {-23, 60}, {-36, 10}}, -23},
		{"3341 case 4 gating -72/-36/-23/-36/-72", 48000, 2,
			[]seg{{-72, 10}, {-36, 10}, {-23, 60}, {-36, 10}, {-72, 10}}, -23},
		{"3341 case 5 -26/-20/-26", 48000, 2, []seg{{-26, 20}, {-20, 20.1}, {-26, 20}}, -23},
		{"44.1 kHz", 44100, 2, []seg{{-23, 20}}, -23},
		{"22.05 kHz", 22050, 2, []seg{{-23, 20}}, -23},
		{"96 kHz", 96000, 2, []seg{{-23, 10}}, -23},
		{"11.025 kHz, 100 ms is not whole", 11025, 2, []seg{{-23, 10}}, -23},
		{"mono counts once", 48000, 1, []seg{{-23, 20}}, -26.01},
		{"mono 44.1 kHz", 44100, 1, []seg{{-20, 10}}, -23.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var parts [][]float32
			for _, s := range tt.segs {
				parts = append(parts, tone(tt.rate, tt.ch, 1000, s.dbfs, s.d, 0))
			}
			got := measure(t, tt.rate, tt.ch, concat(parts...))
			if math.Abs(got.Loudness-tt.want) > 0.1 {
				t.Errorf("loudness %.3f LUFS, want %.2f ±0.1", got.Loudness, tt.want)
			}
		})
	}
}

func TestTruePeak(t *testing.T) {
	tests := []struct {
		name       string
		rate       int
		freq, dbfs float64
		phase      float64
		want       float64
	}{
		// fs/4 at 45°: every sample is at 0.707 of the crest, so the
		// sample peak is 3 dB under the true peak.
		{"fs/4 between samples", 48000, 12000, -6, math.Pi / 4, -6},
		{"fs/4 between samples 44.1", 44100, 11025, -3, math.Pi / 4, -3},
		{"1 kHz", 48000, 1000, -1, 0, -1},
		{"997 Hz at 96 kHz (2x)", 96000, 997, -6, 0.3, -6},
		{"5 kHz at 22.05 kHz", 22050, 5000, -10, 0.1, -10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := measure(t, tt.rate, 2, fade(tt.rate, 2, tone(tt.rate, 2, tt.freq, tt.dbfs, 2, tt.phase)))
			if math.Abs(got.Peak-tt.want) > 0.1 {
				t.Errorf("true peak %.3f dBTP, want %.2f ±0.1", got.Peak, tt.want)
			}
		})
	}
}

func TestCuePoints(t *testing.T) {
	const rate = 44100
	ms := time.Millisecond
	tests := []struct {
		name            string
		ch              int
		pcm             []float32
		wantIn, wantOut time.Duration // the audible part's true bounds
	}{
		{"silence around", 2,
			concat(silence(rate, 2, 1), tone(rate, 2, 440, -20, 2, 0), silence(rate, 2, 1.5)),
			1000 * ms, 3000 * ms},
		{"mono, quiet noise floor", 1,
			concat(tone(rate, 1, 50, -70, 0.5, 0), tone(rate, 1, 440, -30, 1, 0), tone(rate, 1, 50, -70, 0.25, 0)),
			500 * ms, 1500 * ms},
		{"no silence", 2, tone(rate, 2, 440, -20, 1, 0.5), 0, 1000 * ms},
		{"audible to a partial last window", 2,
			concat(silence(rate, 2, 0.2), tone(rate, 2, 440, -20, 1.0031, 0.5)), 200 * ms, 1203 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := measure(t, rate, tt.ch, tt.pcm)
			total := time.Duration(len(tt.pcm)/tt.ch) * time.Second / rate
			if got.CueIn > tt.wantIn || got.CueIn < tt.wantIn-25*ms {
				t.Errorf("cue in %v, want in [%v-25ms, %v]", got.CueIn, tt.wantIn, tt.wantIn)
			}
			if got.CueOut < tt.wantOut || got.CueOut > min(total, tt.wantOut+25*ms) {
				t.Errorf("cue out %v, want in [%v, %v+25ms] and within %v", got.CueOut, tt.wantOut, tt.wantOut, total)
			}
		})
	}
}

func TestSilent(t *testing.T) {
	tests := []struct {
		name string
		pcm  []float32
	}{
		{"nothing", nil},
		{"digital silence", silence(48000, 2, 3)},
		{"below -60 dBFS", tone(48000, 2, 1000, -65, 3, 0)},
		{"shorter than one 400 ms block", tone(48000, 2, 1000, -10, 0.3, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(48000, 2)
			a.Write(tt.pcm)
			if _, err := a.Result(); !errors.Is(err, ErrSilent) {
				t.Errorf("err %v, want ErrSilent", err)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	for _, f := range []struct{ rate, ch int }{{0, 2}, {7999, 1}, {192001, 2}, {48000, 0}, {48000, 3}} {
		a := New(f.rate, f.ch)
		a.Write(make([]float32, 600))
		if _, err := a.Result(); !errors.Is(err, ErrFormat) {
			t.Errorf("%d Hz %d ch: err %v, want ErrFormat", f.rate, f.ch, err)
		}
	}
}

// Chunking must not change anything: the same noise written whole and in
// random pieces gives identical results.
func TestChunking(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pcm := make([]float32, 44100*2*5)
	for i := range pcm {
		pcm[i] = float32(rng.NormFloat64() * 0.1)
	}
	want := measure(t, 44100, 2, pcm)
	a := New(44100, 2)
	for rest := pcm; len(rest) > 0; {
		n := min(len(rest), 2*rng.IntN(3000))
		a.Write(rest[:n])
		rest = rest[n:]
	}
	got, err := a.Result()
	if err != nil {
		t.Fatal(err)
	}
	if Analysis(got) != want {
		t.Errorf("chunked %+v, whole %+v", got, want)
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	a := New(44100, 2)
	pcm := tone(44100, 2, 440, -3, 0.1, 0)
	if n := testing.AllocsPerRun(50, func() { a.Write(pcm) }); n != 0 {
		t.Errorf("%v allocations per Write", n)
	}
}

// BenchmarkAnalyzer measures 44.1 kHz stereo; x_realtime is how many
// seconds of audio one second of one core analyses.
func BenchmarkAnalyzer(b *testing.B) {
	for _, sig := range []struct {
		name string
		pcm  func() []float32
	}{
		{"noise", func() []float32 {
			rng := rand.New(rand.NewPCG(3, 4))
			pcm := make([]float32, 44100*2*10)
			for i := range pcm {
				pcm[i] = float32(rng.NormFloat64() * 0.15)
			}
			return pcm
		}},
		{"sine", func() []float32 { return tone(44100, 2, 440, -3, 10, 0) }},
	} {
		b.Run(sig.name, func(b *testing.B) {
			pcm := sig.pcm()
			b.SetBytes(int64(len(pcm) * 4))
			b.ResetTimer()
			for b.Loop() {
				a := New(44100, 2)
				for p := pcm; len(p) > 0; p = p[min(len(p), 4096):] {
					a.Write(p[:min(len(p), 4096)])
				}
				if _, err := a.Result(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*10/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}
