package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// directPeak is RunPeak as the plain polyphase sum of every phase, in
// float64: what the folded form must reproduce.
func directPeak(ip *Interpolator, run []float32) float64 {
	q := ip.Factor - 1
	pk := 0.0
	for p := range q {
		acc := 0.0
		for i := range InterpolatorTaps {
			acc += float64(ip.coef[i*q+p]) * float64(run[i])
		}
		pk = max(pk, math.Abs(acc))
	}
	return pk
}

func randomRun(rng *rand.Rand, scale float64) []float32 {
	run := make([]float32, InterpolatorTaps)
	for i := range run {
		run[i] = float32(rng.NormFloat64() * scale)
	}
	return run
}

func TestRunPeakMatchesDirectSum(t *testing.T) {
	for _, rate := range []int{44100, 48000, 96000} {
		ip := NewInterpolator(rate)
		rng := rand.New(rand.NewPCG(uint64(rate), 5))
		for n := range 20000 {
			scale := []float64{0.01, 0.3, 1}[n%3]
			run := randomRun(rng, scale)
			got, want := float64(ip.RunPeak(run)), directPeak(ip, run)
			if math.Abs(got-want) > 1e-6 {
				t.Fatalf("%d Hz run %d: RunPeak %.9f, direct sum %.9f", rate, n, got, want)
			}
		}
	}
}

// The folded filter is the designed one: phase 3 mirrors phase 1 and
// phase 2 mirrors itself.
func TestInterpolatorSymmetric(t *testing.T) {
	ip := NewInterpolator(44100)
	c := func(k, q int) float32 { return ip.coef[k*3+q-1] }
	for k := range InterpolatorTaps {
		r := InterpolatorTaps - 1 - k
		if math.Abs(float64(c(k, 3)-c(r, 1))) > 1e-7 || math.Abs(float64(c(k, 2)-c(r, 2))) > 1e-7 {
			t.Fatalf("tap %d: phases %v %v %v, mirrored %v %v %v", k, c(k, 1), c(k, 2), c(k, 3), c(r, 1), c(r, 2), c(r, 3))
		}
	}
}

func BenchmarkRunPeak(b *testing.B) {
	ip := NewInterpolator(44100)
	w := noiseRuns(4096)
	var sink float32
	i := 0
	for b.Loop() {
		sink = max(sink, ip.RunPeak(w[i:i+InterpolatorTaps]))
		i = (i + 1) & 4095
	}
	_ = sink
}

// BenchmarkPeaks is the limiter's detector on a 440 Hz tone whose crests
// are just over floor, 1024 runs per op.
func BenchmarkPeaks(b *testing.B) {
	ip := NewInterpolator(44100)
	pcm := tone(44100, 1, 440, -1, 1, 0)
	floor := float32(math.Pow(10, -1.2/20))
	out := make([]float32, 1024)
	at := 0
	for b.Loop() {
		clear(out)
		ip.Peaks(pcm[at:at+1024+InterpolatorTaps-1], floor, out)
		at = (at + 1024) % 40000
	}
}

// curveE2 is the energy of one run's second differences, as the sum it is
// defined as.
func curveE2(t *testing.T, ip *Interpolator, run []float32) float64 {
	t.Helper()
	e := 0.0
	for k := 1; k < len(run)-1; k++ {
		d := float64(run[k-1]) - 2*float64(run[k]) + float64(run[k+1])
		e += d * d
	}
	energy := ip.curveEnergy(run)
	if got := energy[len(energy)-1] - energy[0]; math.Abs(got-e) > 1e-12*e {
		t.Fatalf("curveEnergy %g, by definition %g", got, e)
	}
	return e
}

func noiseRuns(n int) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, n+InterpolatorTaps)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.3)
	}
	return w
}

// The skip bound never skips a run whose peak is above floor: for runs
// smooth and rough, loud and quiet, a floor just under the run's peak is
// never reported as out of reach.
func TestBelowNeverHidesAPeak(t *testing.T) {
	for _, rate := range []int{44100, 96000} {
		ip := NewInterpolator(rate)
		rng := rand.New(rand.NewPCG(uint64(rate), 6))
		for n := range 50000 {
			run := make([]float32, InterpolatorTaps)
			// A few sinusoids of random frequency (up to the whole band)
			// plus noise of random level.
			amp, noise := rng.Float64(), rng.Float64()*[]float64{0, 1e-4, 1e-2, 1}[n%4]
			var f [3]float64
			for i := range f {
				f[i] = rng.Float64() * math.Pi * []float64{0.05, 0.3, 1}[n%3]
			}
			ph := rng.Float64() * 2 * math.Pi
			for i := range run {
				v := 0.0
				for _, w := range f {
					v += amp / 3 * math.Sin(w*float64(i)+ph)
				}
				run[i] = float32(v + noise*rng.NormFloat64())
			}
			peak := max(ip.RunPeak(run), abs32(run[Centre]))
			e2 := curveE2(t, ip, run)
			floor := peak * (1 - 1e-6)
			if ip.below(run[Centre], run[Centre+1], e2, slack(floor, maxAbs(run))) {
				t.Fatalf("%d Hz run %d: peak %.7f skipped under floor %.7f: %v", rate, n, peak, floor, run)
			}
		}
	}
}

// The bound is tight: a run whose second differences follow one phase's
// curvature weights, flat between its middle samples, reaches it.
func TestBelowWorstCase(t *testing.T) {
	for _, rate := range []int{44100, 96000} {
		ip := NewInterpolator(rate)
		q := ip.Factor - 1
		for p := range q {
			c := make([]float64, InterpolatorTaps)
			for k := range c {
				c[k] = float64(ip.coef[k*q+p])
			}
			_, b := curveWeights(c, float64(p+1)/float64(ip.Factor))
			for _, scale := range []float64{1e-3, 0.1, 1} {
				// x[Centre] = x[Centre+1] = 0; second difference at j is
				// scale*b[j-1].
				x := make([]float64, InterpolatorTaps)
				for k := Centre + 1; k < InterpolatorTaps-1; k++ {
					x[k+1] = 2*x[k] - x[k-1] + scale*b[k-1]
				}
				for k := Centre; k > 0; k-- {
					x[k-1] = 2*x[k] - x[k+1] + scale*b[k-1]
				}
				run := make([]float32, InterpolatorTaps)
				for k := range run {
					run[k] = float32(x[k])
				}
				peak := ip.RunPeak(run)
				e2 := curveE2(t, ip, run)
				floor := peak * (1 - 1e-5)
				if ip.below(run[Centre], run[Centre+1], e2, slack(floor, maxAbs(run))) {
					t.Errorf("%d Hz phase %d scale %g: peak %.7g skipped under floor %.7g", rate, p+1, scale, peak, floor)
				}
				// And for the phase that sets Curve, the bound is no more
				// than a hair above the peak.
				norm := 0.0
				for _, v := range b {
					norm += v * v
				}
				if bound := ip.Curve * math.Sqrt(e2); math.Sqrt(norm) > ip.Curve*0.999 && bound > 1.01*float64(peak) {
					t.Errorf("%d Hz phase %d scale %g: bound %.7g for a peak of %.7g", rate, p+1, scale, bound, peak)
				}
			}
		}
	}
}

// The bound is worth having: on a tone with crests just over the floor,
// it leaves no more than the runs near the crests.
func TestBelowSkipsAwayFromCrests(t *testing.T) {
	ip := NewInterpolator(44100)
	pcm := tone(44100, 1, 440, -1, 1, 0)
	floor := float32(math.Pow(10, -1.2/20))
	computed, runs := 0, len(pcm)-InterpolatorTaps+1
	for b := 0; b < runs; b += peakBlock {
		w := pcm[b:min(len(pcm), b+peakBlock+InterpolatorTaps-1)]
		m := maxAbs(w)
		energy := ip.curveEnergy(w)
		for j := range len(w) - InterpolatorTaps + 1 {
			e2 := energy[j+InterpolatorTaps-2] - energy[j]
			if !ip.below(w[j+Centre], w[j+Centre+1], e2, slack(floor, m)) {
				computed++
			}
		}
	}
	// Samples within 0.2 dB of a -1 dBFS crest: about a sixth of a tone.
	if frac := float64(computed) / float64(runs); frac > 0.25 {
		t.Errorf("%.1f%% of runs computed", 100*frac)
	}
	t.Logf("%d of %d runs computed", computed, runs)
}
