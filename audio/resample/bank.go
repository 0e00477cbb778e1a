package resample

import (
	"math"
	"sync"
)

// Filter design constants. They are fixed so that the hot loop works on
// arrays of known length (no bounds checks) and so that one table serves
// every station using the same ratio.
const (
	// taps is the number of input frames each output frame is computed from
	// (taps per polyphase branch). 32 is the measured sweet spot for
	// 44.1→48 kHz: ≈94 dB SNR at several hundred times realtime.
	taps = 32

	// stopbandDB is the Kaiser design attenuation (and passband ripple,
	// 10^(-94/20) ≈ 2e-5). 94 dB is close to the ≈98 dB range of the 16-bit
	// PCM the MP3 decoder emits and far below MP3's own coding noise, so the
	// resampler is never the weakest link; it is also what 32 taps reach while
	// keeping 44.1 kHz input flat to ≈15.9 kHz and -6 dB at ≈20 kHz.
	stopbandDB = 94.0

	// MaxPhases bounds L in the reduced ratio L/M: a bank is L×taps float32
	// (640 phases for 11025→48000 is 80 KiB). Rates that only share a tiny
	// common divisor would need megabytes for one station and are refused.
	MaxPhases = 2048

	// MaxRate is the largest accepted sample rate.
	MaxRate = 768000
)

// kaiserBeta is β for stopbandDB from Kaiser's empirical formula
// β = 0.1102(A − 8.7) for A > 50 dB: ≈ 9.40. A larger β lowers the sidelobes
// but widens the transition band; this is the smallest β that meets A.
var kaiserBeta = 0.1102 * (stopbandDB - 8.7)

// bank is a polyphase filter table for one reduced ratio L/M. Phase p holds
// taps coefficients, time-reversed so that output = Σ coef[j]·window[j] with
// window the last taps input frames in chronological order.
type bank struct {
	l, m   int
	coef   []float32 // l*taps; read-only once built, shared between resamplers
	cutoff float64   // -6 dB frequency as a fraction of the lower rate (for tests/docs)
}

type ratio struct{ l, m int }

// banks caches one table per ratio: all stations converting 44.1→48 kHz
// read the same 20 KiB, which also keeps it hot in the CPU cache.
var banks sync.Map // ratio → *bank

// bankFor returns the shared table for L/M, building it on first use.
// Building allocates; a LoadOrStore race just discards one of two equal tables.
func bankFor(l, m int) *bank {
	key := ratio{l, m}
	if b, ok := banks.Load(key); ok {
		return b.(*bank)
	}
	b, _ := banks.LoadOrStore(key, designBank(l, m))
	return b.(*bank)
}

// transitionWidth returns the Kaiser transition band width (passband edge to
// stopband edge) for a prototype of n taps, as a fraction of its sample rate:
// Δf = (A − 7.95) / (2.285 · 2π · (n − 1)) (Kaiser's order estimate solved for Δω).
func transitionWidth(n int) float64 {
	return (stopbandDB - 7.95) / (2.285 * 2 * math.Pi * float64(n-1))
}

// designBank builds the L-phase table for upsampling by L then keeping every
// M-th sample. The prototype low-pass runs at the upsampled rate Fu = L·fin
// and has taps·L coefficients, so it spans taps input frames.
//
// Cutoff choice. Let fl = min(fin, fout) (the lower rate). Content at f comes
// back as an image (upsampling) or alias (downsampling) at fl − f. We put the
// stopband edge exactly at fl − fc, where fc is the -6 dB cutoff:
//
//	fc + Δf/2 = fl − fc  ⇒  fc = (fl − Δf/2) / 2
//
// so every image of content the filter passes at ≥ -6 dB is attenuated by the
// full stopbandDB, and what folds into the band is only the already
// attenuated transition-band content, which lands above fc. With 32 taps
// Δf ≈ 0.187·fin, giving fc ≈ 19.99 kHz for 44.1→48 kHz (flat to ≈15.9 kHz,
// images of everything below 20 kHz at ≤ -94 dB) and ≈ 9.99 kHz for 22.05 kHz
// input, below its 11.025 kHz Nyquist as it must be.
//
// Each phase is normalised to a DC gain of exactly 1: the raw phases differ
// by ~1e-5, which would otherwise modulate a constant signal at the phase
// pattern's rate and show up as spurs.
func designBank(l, m int) *bank {
	n := taps * l
	fu := float64(l) // upsampled rate in units of fin
	fl := math.Min(1, float64(l)/float64(m))
	df := transitionWidth(n) * fu
	fc := (fl - df/2) / 2 // in units of fin
	wc := 2 * fc / fu     // normalised cutoff, 1 = Nyquist of the upsampled rate

	center := float64(n-1) / 2
	i0beta := besselI0(kaiserBeta)
	proto := make([]float64, n)
	for i := range proto {
		x := float64(i) - center
		r := x / center
		w := besselI0(kaiserBeta*math.Sqrt(math.Max(0, 1-r*r))) / i0beta
		proto[i] = wc * sinc(wc*x) * w
	}

	coef := make([]float32, n)
	for p := 0; p < l; p++ {
		var sum float64
		for k := 0; k < taps; k++ {
			sum += proto[p+k*l]
		}
		// Phase p, window slot j (oldest first) multiplies x[base-(taps-1-j)],
		// which the prototype weighs with h[p + (taps-1-j)·L].
		for j := 0; j < taps; j++ {
			coef[p*taps+j] = float32(proto[p+(taps-1-j)*l] / sum)
		}
	}
	return &bank{l: l, m: m, coef: coef, cutoff: fc / fl}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series Σ ((x/2)^k / k!)², which converges fast for the β ≤ 10
// used here (terms fall below 1e-17 of the sum within ~40 iterations).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	h := x / 2
	for k := 1; k < 200; k++ {
		term *= h / float64(k)
		t2 := term * term
		sum += t2
		if t2 < sum*1e-17 {
			break
		}
	}
	return sum
}
