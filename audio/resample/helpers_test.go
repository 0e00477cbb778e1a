package resample

import (
	"math"
	"testing"
)

// tone is an interleaved sine of amp at f Hz sampled at rate, starting at
// phase0. The right channel is shifted by π/3 so a swapped or mixed channel
// shows up as error.
func tone(rate, ch, frames int, f, amp, phase0 float64) []float32 {
	x := make([]float32, frames*ch)
	for i := range frames {
		ph := phase0 + 2*math.Pi*f*float64(i)/float64(rate)
		x[i*ch] = float32(amp * math.Sin(ph))
		if ch == 2 {
			x[i*ch+1] = float32(amp * math.Sin(ph+math.Pi/3))
		}
	}
	return x
}

// exactDelay is the filter's group delay in seconds without the rounding
// of Latency (0.5 ns is already -90 dB of phase error at 10 kHz).
func exactDelay(r *Resampler) float64 {
	if r.cur.bank == nil {
		return 0
	}
	return float64(taps*r.cur.l-1) / float64(2*r.cur.l) / float64(r.cur.inRate)
}

// snr compares n output frames with the analytic tone that tone() would
// have produced at outRate from phase0, delayed by the group delay, skipping the first
// skip frames (filter start-up against the zero history). It returns the
// worst channel's SNR in dB.
func snr(t *testing.T, r *Resampler, y []float32, n, skip int, f, amp, phase0 float64) float64 {
	t.Helper()
	if n-skip < 1000 {
		t.Fatalf("only %d frames to measure", n-skip)
	}
	d := exactDelay(r)
	worst := math.Inf(1)
	for c := range r.ch {
		var sig, noise float64
		for i := skip; i < n; i++ {
			ph := phase0 + 2*math.Pi*f*(float64(i)/float64(r.outRate)-d)
			if c == 1 {
				ph += math.Pi / 3
			}
			ref := amp * math.Sin(ph)
			e := float64(y[i*r.ch+c]) - ref
			sig += ref * ref
			noise += e * e
		}
		worst = min(worst, 10*math.Log10(sig/noise))
	}
	return worst
}

// goertzel returns the amplitude of the f Hz component of channel c of
// the interleaved x, over frames [from, to). A Hann window keeps a strong
// tone from leaking into readings a few hertz away (a rectangular window
// leaks -43 dB at 36 Hz over 0.5 s).
func goertzel(x []float32, ch, c, from, to, rate int, f float64) float64 {
	w := 2 * math.Pi * f / float64(rate)
	coef := 2 * math.Cos(w)
	n := float64(to - from)
	var s1, s2, gain float64
	for i := from; i < to; i++ {
		hann := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i-from)/n)
		gain += hann
		s := hann*float64(x[i*ch+c]) + coef*s1 - s2
		s2, s1 = s1, s
	}
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	return 2 * math.Hypot(re, im) / gain
}

// run feeds x to r in chunks of chunk frames and returns the concatenated
// output and each call's output frame count.
func run(t *testing.T, r *Resampler, x []float32, chunk int) ([]float32, []int) {
	t.Helper()
	frames := len(x) / r.ch
	y := make([]float32, 0, r.MaxOut(frames)*r.ch+64)
	out := make([]float32, r.MaxOut(chunk)*r.ch)
	var counts []int
	for i := 0; i < frames; i += chunk {
		end := min(i+chunk, frames)
		n := r.Process(x[i*r.ch:end*r.ch], out)
		counts = append(counts, n)
		y = append(y, out[:n*r.ch]...)
	}
	return y, counts
}

func mustNew(t testing.TB, in, out, ch int) *Resampler {
	t.Helper()
	r, err := New(in, out, ch)
	if err != nil {
		t.Fatalf("New(%d, %d, %d): %v", in, out, ch, err)
	}
	return r
}

func db(x float64) float64 { return 20 * math.Log10(x) }

// startup is how many output frames depend on the zero history before the
// first input: the window spans taps input frames.
func startup(r *Resampler) int {
	return taps*r.outRate/r.cur.inRate + 2
}
