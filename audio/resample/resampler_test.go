package resample

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name        string
		in, out, ch int
		want        error
	}{
		{"no channels", 44100, 48000, 0, ErrChannels},
		{"three channels", 44100, 48000, 3, ErrChannels},
		{"zero input rate", 0, 48000, 2, ErrRate},
		{"negative output rate", 44100, -48000, 2, ErrRate},
		{"input rate too high", MaxRate + 1, 48000, 2, ErrRate},
		{"coprime rates need 48000 phases", 44101, 48000, 2, ErrRatio},
		{"downsampling beyond 2:1", 96001 * 2, 48000, 1, ErrRatio},
		{"downsampling 4:1", 192000, 48000, 1, ErrRatio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.in, tt.out, tt.ch)
			if !errors.Is(err, tt.want) || r != nil {
				t.Fatalf("New(%d, %d, %d) = %v, %v; want nil, %v", tt.in, tt.out, tt.ch, r, err, tt.want)
			}
		})
	}
	for _, in := range []int{8000, 44100, 48000, 96000} {
		if _, err := New(in, 48000, 1); err != nil {
			t.Errorf("New(%d, 48000, 1): %v", in, err)
		}
	}
}

func TestRatioAndLatency(t *testing.T) {
	tests := []struct {
		in, l, m int
		latency  time.Duration
	}{
		{44100, 160, 147, 362741 * time.Nanosecond}, // (32·160−1)/320 / 44100 s
		{32000, 3, 2, 494792 * time.Nanosecond},
		{22050, 320, 147, 725553 * time.Nanosecond},
		{48000, 1, 1, 0},
	}
	for _, tt := range tests {
		r := mustNew(t, tt.in, 48000, 2)
		if m := r.cur.q*r.cur.l + r.cur.rem; r.cur.l != tt.l || m != tt.m {
			t.Errorf("%d→48000: L/M = %d/%d, want %d/%d", tt.in, r.cur.l, m, tt.l, tt.m)
		}
		if got := r.Latency(); got != tt.latency {
			t.Errorf("%d→48000: Latency() = %v, want %v", tt.in, got, tt.latency)
		}
	}
}

// TestSNR44100To48000 compares the output with the exact analytic sine at
// 48 kHz. Measured on the reference machine: 96.4 dB at 1 kHz, 97.2 dB at
// 10 kHz (stereo and mono alike); the design floor is the 94 dB ripple.
func TestSNR44100To48000(t *testing.T) {
	for _, ch := range []int{1, 2} {
		for _, f := range []float64{1000, 10000} {
			r := mustNew(t, 44100, 48000, ch)
			y, _ := run(t, r, tone(44100, ch, 44100, f, 0.5, 0.3), 1152)
			got := snr(t, r, y, len(y)/ch, startup(r), f, 0.5, 0.3)
			t.Logf("%d ch, %.0f Hz: SNR %.2f dB", ch, f, got)
			if got < 90 {
				t.Errorf("%d ch, %.0f Hz: SNR %.2f dB, want ≥ 90 dB", ch, f, got)
			}
		}
	}
}

// TestFrequencyAndAmplitude reads the output back with Goertzel filters:
// the tone must keep its amplitude (the passband is flat to 0.0003 dB) and
// its frequency (a wrong ratio would move the energy to f·44100/48000).
func TestFrequencyAndAmplitude(t *testing.T) {
	const amp = 0.5
	for _, f := range []float64{440, 1000, 5000, 10000, 15000} {
		r := mustNew(t, 44100, 48000, 2)
		y, _ := run(t, r, tone(44100, 2, 44100, f, amp, 0), 4096)
		from, to := 1000, 1000+24000 // 0.5 s: whole cycles of every f here
		for c := range 2 {
			a := goertzel(y, 2, c, from, to, 48000, f)
			if d := db(a / amp); math.Abs(d) > 0.01 {
				t.Errorf("%.0f Hz ch %d: amplitude %.5f (%.4f dB), want %.1f ± 0.01 dB", f, c, a, d, amp)
			}
			for _, wrong := range []float64{f * 44100 / 48000, f - 20, f + 20} {
				if w := goertzel(y, 2, c, from, to, 48000, wrong); db(w/amp) > -60 {
					t.Errorf("%.0f Hz ch %d: %.1f dB at %.1f Hz, want ≤ -60 dB", f, c, db(w/amp), wrong)
				}
			}
		}
	}
}

// TestAboveBandAttenuated: 21.5 kHz is above the 15.9 kHz passband edge
// and the 19.985 kHz cutoff of 44.1→48, so it must come out attenuated
// (measured -17.8 dB; its image at 22.6 kHz, ultrasonic, -33.6 dB), and
// the image of a passband tone must not fold back into the audible band
// (15 kHz's image at 29.1 kHz would alias to 18.9 kHz: measured -98 dB).
func TestAboveBandAttenuated(t *testing.T) {
	const amp = 0.5
	from, to := 1000, 1000+48000/2
	check := func(in, at, wantBelowDB float64) {
		t.Helper()
		r := mustNew(t, 44100, 48000, 1)
		y, _ := run(t, r, tone(44100, 1, 44100, in, amp, 0), 1152)
		got := db(goertzel(y, 1, 0, from, to, 48000, at) / amp)
		t.Logf("%.0f Hz in: %.1f dB at %.0f Hz", in, got, at)
		if got > wantBelowDB {
			t.Errorf("%.0f Hz in: %.1f dB at %.0f Hz, want ≤ %.0f dB", in, got, at, wantBelowDB)
		}
	}
	check(21500, 21500, -15)
	check(21500, 44100-21500, -30) // its own image, in the transition band at 22.6 kHz
	check(15000, 48000-(44100-15000), -90)
	check(1000, 48000-(44100-1000), -90)
}

// TestChunkingIsExact feeds the same signal at once and in random chunks
// (including empty and one-frame ones): the output must be bit-identical.
func TestChunkingIsExact(t *testing.T) {
	for _, tc := range []struct{ in, out, ch int }{
		{44100, 48000, 2}, {22050, 48000, 1}, {8000, 48000, 2},
		{32000, 48000, 1}, {48000, 44100, 2}, {48000, 48000, 2},
	} {
		x := tone(tc.in, tc.ch, tc.in/2, 997, 0.7, 1)
		whole := mustNew(t, tc.in, tc.out, tc.ch)
		want := make([]float32, whole.MaxOut(len(x)/tc.ch)*tc.ch)
		n := whole.Process(x, want)
		want = want[:n*tc.ch]

		rng := rand.New(rand.NewPCG(1, uint64(tc.in)))
		r := mustNew(t, tc.in, tc.out, tc.ch)
		var got []float32
		for rest := x; len(rest) > 0; {
			k := min(rng.IntN(3000), len(rest)/tc.ch)
			if rng.IntN(8) == 0 {
				k = rng.IntN(2)
			}
			out := make([]float32, r.MaxOut(k)*tc.ch)
			m := r.Process(rest[:k*tc.ch], out)
			got = append(got, out[:m*tc.ch]...)
			rest = rest[k*tc.ch:]
		}
		if len(got) != len(want) {
			t.Fatalf("%d→%d ×%d: chunked %d samples, one-shot %d", tc.in, tc.out, tc.ch, len(got), len(want))
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d→%d ×%d: sample %d chunked %v, one-shot %v", tc.in, tc.out, tc.ch, i, got[i], want[i])
			}
		}
	}
}

// TestReset: after Reset the output is that of a fresh resampler.
func TestReset(t *testing.T) {
	x := tone(44100, 2, 5000, 440, 0.5, 0)
	fresh := mustNew(t, 44100, 48000, 2)
	want, _ := run(t, fresh, x, 1000)

	r := mustNew(t, 44100, 48000, 2)
	run(t, r, tone(44100, 2, 3333, 3000, 0.9, 2), 700)
	r.Reset()
	got, _ := run(t, r, x, 1000)
	if len(got) != len(want) {
		t.Fatalf("after Reset: %d samples, fresh: %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after Reset: sample %d = %v, fresh %v", i, got[i], want[i])
		}
	}
}

func TestProcessDoesNotAllocate(t *testing.T) {
	for _, tc := range []struct{ in, ch int }{{44100, 2}, {44100, 1}, {22050, 2}, {48000, 2}} {
		r := mustNew(t, tc.in, 48000, tc.ch)
		x := tone(tc.in, tc.ch, 1152, 440, 0.5, 0)
		out := make([]float32, r.MaxOut(1152)*tc.ch)
		if a := testing.AllocsPerRun(100, func() { r.Process(x, out) }); a != 0 {
			t.Errorf("%d Hz ×%d: %v allocs per Process, want 0", tc.in, tc.ch, a)
		}
	}
}

// TestListedRates converts one second at each MP3 rate: 48000 frames in
// all, each call within one frame of its exact share, and a clean sine.
func TestListedRates(t *testing.T) {
	const chunk = 1152 // one MPEG-1 layer III frame
	for _, in := range append(listedRates, 48000) {
		r := mustNew(t, in, 48000, 2)
		y, counts := run(t, r, tone(in, 2, in, 1000, 0.5, 0.3), chunk)
		if got := len(y) / 2; got != 48000 {
			t.Errorf("%d Hz: %d output frames for 1 s, want 48000", in, got)
		}
		for i, n := range counts {
			frames := min(chunk, in-i*chunk)
			exact := float64(frames) * 48000 / float64(in)
			if math.Abs(float64(n)-exact) > 1 {
				t.Errorf("%d Hz: call %d gave %d frames for %d in, want %.2f ± 1", in, i, n, frames, exact)
			}
		}
		got := snr(t, r, y, len(y)/2, startup(r), 1000, 0.5, 0.3)
		t.Logf("%5d Hz → 48000: 1 kHz SNR %.1f dB", in, got)
		if got < 90 {
			t.Errorf("%d Hz: 1 kHz SNR %.1f dB, want ≥ 90 dB", in, got)
		}
	}
}

// TestPassThroughIsExact: equal rates give the input back, bit for bit,
// with no delay.
func TestPassThroughIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float32, 2*5000)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	r := mustNew(t, 48000, 48000, 2)
	y, _ := run(t, r, x, 1000)
	if len(y) != len(x) {
		t.Fatalf("%d samples out, %d in", len(y), len(x))
	}
	for i := range x {
		if math.Float32bits(y[i]) != math.Float32bits(x[i]) {
			t.Fatalf("sample %d: %v, want %v", i, y[i], x[i])
		}
	}
	if r.Latency() != 0 {
		t.Errorf("Latency() = %v, want 0", r.Latency())
	}
}

// TestSetInputRate plays one continuous 0.5 sine through track changes
// between rates (including to and from pass-through), in MP3-frame chunks.
// The output must stay finite and bounded, without a gap in time and
// without a click: no sample-to-sample step much larger than the sine's
// own steepest step (measured 1.4×; replaying the old track's last frames
// at the new rate measured 10.8×).
func TestSetInputRate(t *testing.T) {
	const (
		f   = 440.0
		amp = 0.5
	)
	rates := []int{44100, 48000, 22050, 32000, 48000, 8000, 44100, 11025, 24000}
	r := mustNew(t, rates[0], 48000, 2)
	initialDelay, skip := exactDelay(r), startup(r)
	var y []float32
	var seconds, ph float64
	for i, rate := range rates {
		if err := r.SetInputRate(rate); err != nil {
			t.Fatalf("SetInputRate(%d): %v", rate, err)
		}
		frames := rate/4 + i*97 // not a whole number of chunks
		x := tone(rate, 2, frames, f, amp, ph)
		ph += 2 * math.Pi * f * float64(frames) / float64(rate)
		seconds += float64(frames) / float64(rate)
		for j := 0; j < frames; j += 1152 {
			k := min(1152, frames-j)
			bound := r.MaxOut(k)
			out := make([]float32, (bound+100)*2)
			n := r.Process(x[2*j:2*(j+k)], out)
			if n > bound {
				t.Fatalf("rate %d: %d frames out for %d in, MaxOut said %d", rate, n, k, bound)
			}
			y = append(y, out[:2*n]...)
		}
	}
	// Time is carried across each change: output starts at minus the first
	// rate's group delay and ends that of the last rate behind the input,
	// give or take a frame per change.
	want := (seconds + initialDelay - exactDelay(r)) * 48000
	if got := float64(len(y) / 2); math.Abs(got-want) > float64(len(rates)) {
		t.Errorf("%d output frames for %.4f s of input, want %.1f ± %d", len(y)/2, seconds, want, len(rates))
	}
	steepest := 2 * math.Pi * f * amp / 48000
	var peak, step float64
	for i, v := range y {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("sample %d is %v", i, v)
		}
		peak = max(peak, math.Abs(float64(v)))
		if i >= 2*skip { // not the rise from the silence before the first track
			step = max(step, math.Abs(float64(v-y[i-2])))
		}
	}
	t.Logf("peak %.4f, largest step %.5f (sine's steepest %.5f)", peak, step, steepest)
	if peak > 1.01 || peak < 0.49 {
		t.Errorf("peak %.4f, want about %.1f and never above 1.01", peak, amp)
	}
	if step > 2*steepest {
		t.Errorf("largest sample step %.5f, want ≤ %.5f (2× the sine's): a click at a rate change", step, 2*steepest)
	}
}

// TestSetInputRateShortTracks switches rate at random, often after only a
// few frames (tracks shorter than the filter), in random chunks: the output
// must be bounded, keep MaxOut, and depend only on where the changes are
// in the stream, not on how Process calls cut it.
func TestSetInputRateShortTracks(t *testing.T) {
	rates := append(listedRates, 48000)
	type track struct{ rate, frames int }
	rng := rand.New(rand.NewPCG(3, 4))
	var tracks []track
	for range 300 {
		n := rng.IntN(40)
		if rng.IntN(4) == 0 {
			n = rng.IntN(3000)
		}
		tracks = append(tracks, track{rates[rng.IntN(len(rates))], n})
	}
	play := func(ch int, seed uint64) []float32 {
		rng := rand.New(rand.NewPCG(seed, 1))
		r := mustNew(t, 44100, 48000, ch)
		var y []float32
		for _, tr := range tracks {
			if err := r.SetInputRate(tr.rate); err != nil {
				t.Fatal(err)
			}
			x := tone(tr.rate, ch, tr.frames, 440, 0.5, 0) // rng only cuts the chunks
			for len(x) > 0 {
				k := min(rng.IntN(50), len(x)/ch)
				bound := r.MaxOut(k)
				out := make([]float32, (bound+200)*ch)
				n := r.Process(x[:k*ch], out)
				if n > bound {
					t.Fatalf("%d frames out for %d in, MaxOut said %d", n, k, bound)
				}
				y = append(y, out[:n*ch]...)
				x = x[k*ch:]
			}
		}
		return y
	}
	for _, ch := range []int{1, 2} {
		a, b := play(ch, 1), play(ch, 2)
		if len(a) != len(b) {
			t.Fatalf("%d ch: %d vs %d samples for two chunkings", ch, len(a), len(b))
		}
		for i, v := range a {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1.01 {
				t.Fatalf("%d ch: sample %d is %v", ch, i, v)
			}
			if math.Float32bits(v) != math.Float32bits(b[i]) {
				t.Fatalf("%d ch: sample %d differs between chunkings: %v vs %v", ch, i, v, b[i])
			}
		}
	}
}

func TestSetInputRateErrorKeepsState(t *testing.T) {
	r := mustNew(t, 44100, 48000, 2)
	x := tone(44100, 2, 3000, 440, 0.5, 0)
	ref := mustNew(t, 44100, 48000, 2)
	run(t, r, x[:2000], 1000)
	run(t, ref, x[:2000], 1000)
	for _, bad := range []int{0, -1, 44101, MaxRate + 1} {
		if err := r.SetInputRate(bad); !errors.Is(err, ErrRate) && !errors.Is(err, ErrRatio) {
			t.Errorf("SetInputRate(%d) = %v, want ErrRate or ErrRatio", bad, err)
		}
	}
	got, _ := run(t, r, x[2000:], 1000)
	want, _ := run(t, ref, x[2000:], 1000)
	if len(got) != len(want) {
		t.Fatalf("after failed SetInputRate: %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after failed SetInputRate: sample %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestShortOutDropsInsteadOfPanicking: an undersized out loses the frames
// that do not fit, and the stream stays in time for the next call.
func TestShortOutDropsInsteadOfPanicking(t *testing.T) {
	for _, rate := range []int{44100, 48000} {
		x := tone(rate, 2, 2000, 440, 0.5, 0)
		ref := mustNew(t, rate, 48000, 2)
		want, _ := run(t, ref, x, 1000)

		r := mustNew(t, rate, 48000, 2)
		short := make([]float32, 2*10)
		if n := r.Process(x[:2000], short); n != 10 {
			t.Errorf("%d Hz: short out: %d frames written, want 10", rate, n)
		}
		out := make([]float32, r.MaxOut(1000)*2)
		n := r.Process(x[2000:], out)
		tail := want[len(want)-2*n:]
		for i := range tail {
			if out[i] != tail[i] {
				t.Fatalf("%d Hz: after a short out, sample %d = %v, want %v", rate, i, out[i], tail[i])
			}
		}
	}
}

func TestZeroValueProducesNothing(t *testing.T) {
	var r Resampler
	if n := r.Process(make([]float32, 10), make([]float32, 100)); n != 0 {
		t.Errorf("zero Resampler wrote %d frames", n)
	}
	if r.Latency() != 0 {
		t.Errorf("zero Resampler latency %v", r.Latency())
	}
}

func benchmarkResample(b *testing.B, in, ch int) {
	const chunk = 1152
	r := mustNew(b, in, 48000, ch)
	x := tone(in, ch, chunk, 1000, 0.5, 0)
	out := make([]float32, r.MaxOut(chunk)*ch)
	b.ReportAllocs()
	b.SetBytes(int64(len(x) * 4))
	b.ResetTimer()
	for range b.N {
		r.Process(x, out)
	}
	audio := float64(b.N) * chunk / float64(in)
	b.ReportMetric(audio/b.Elapsed().Seconds(), "x-realtime")
}

func BenchmarkResample44100To48000Stereo(b *testing.B) { benchmarkResample(b, 44100, 2) }
func BenchmarkResample44100To48000Mono(b *testing.B)   { benchmarkResample(b, 44100, 1) }
func BenchmarkResample22050To48000Stereo(b *testing.B) { benchmarkResample(b, 22050, 2) }
func BenchmarkPassThrough48000Stereo(b *testing.B)     { benchmarkResample(b, 48000, 2) }
