package analysis

import "math"

// InterpolatorTaps is the length of each phase of the true-peak
// interpolator, in input samples: it reads InterpolatorTaps/2 samples on
// either side of the point it estimates.
const InterpolatorTaps = 24

// Oversampling returns the true-peak oversampling factor BS.1770-4 asks
// for at rate: 4 below 96 kHz, 2 from there on.
func Oversampling(rate int) int {
	if rate >= 96000 {
		return 2
	}
	return 4
}

// Interpolator estimates a band-limited signal between its samples, for
// true-peak measurement: a polyphase FIR, designed here as a
// Kaiser-windowed sinc cut off at the input's Nyquist frequency. Phase 0
// of such a filter is the input sample itself (the sinc's zeros fall on
// the other input samples), so only the Factor-1 phases in between are
// computed.
//
// A run is InterpolatorTaps consecutive samples of one channel, oldest
// first; from a run starting at w[j] the interpolator gives the values at
// the Factor-1 points strictly between w[j+Centre] and w[j+Centre+1].
type Interpolator struct {
	Factor int
	// coef[i*(Factor-1)+q-1] multiplies run[i] for phase q.
	coef []float32
	// Gain bounds |interpolated value| by Gain times the run's largest
	// |sample|: every phase's sum of |taps|.
	Gain float64
	// Finer bounds, for skipping runs that cannot beat a floor. A phase at
	// t between x0 = run[Centre] and x1 = run[Centre+1] is the straight
	// line between them, plus Slope's share of x1-x0 (the filter's error
	// on a ramp), plus a weighted sum of the run's second differences
	// x[k-1]-2x[k]+x[k+1] (summation by parts, twice), whose weights have
	// an L2 norm of at most Curve. So |value| <= max(|x0|, |x1|) +
	// Slope*|x1-x0| + Curve*sqrt(energy of the second differences): tight
	// on music and tones, whose second differences are small where the
	// signal is loud.
	Slope, Curve float64
	slope32      float32 // Slope, for below
	curve2       float64 // Curve squared, for below

	// fold is the 4x filter folded on its symmetry (see RunPeak):
	// fold[3*i:3*i+3] weigh the sum and difference of run[i] and
	// run[InterpolatorTaps-1-i].
	fold [3 * InterpolatorTaps / 2]float32

	// energy[i] is the energy of the first i second differences of the
	// block of w that Peaks and PeakAbove are at: run j's is
	// energy[j+InterpolatorTaps-2] - energy[j].
	energy [peakBlock + InterpolatorTaps]float64
}

// peakBlock is how many runs share PeakAbove's first, coarse bound.
const peakBlock = 64

// Centre is the index in a run of the sample just before the points the
// interpolator estimates.
const Centre = InterpolatorTaps/2 - 1

// NewInterpolator returns the BS.1770 true-peak interpolator for rate.
func NewInterpolator(rate int) *Interpolator {
	const taps = InterpolatorTaps
	const beta = 7.0 // Kaiser window: about 70 dB stopband
	f := Oversampling(rate)
	n := f*taps + 1 // odd, centred on an input sample
	centre := float64(f * taps / 2)
	h := make([]float64, n)
	for k := range h {
		t := (float64(k) - centre) / float64(f)
		s := 1.0
		if t != 0 {
			s = math.Sin(math.Pi*t) / (math.Pi * t)
		}
		r := 2*float64(k)/float64(n-1) - 1
		h[k] = s * bessel0(beta*math.Sqrt(max(0, 1-r*r))) / bessel0(beta)
	}
	// The window and the sinc are even about the centre: make h exactly
	// so, for the folded form below.
	for k := range n / 2 {
		h[n-1-k] = h[k]
	}
	ip := &Interpolator{Factor: f, coef: make([]float32, taps*(f-1))}
	phase := make([][]float64, f) // phase[q][k], oldest sample first
	for q := 1; q < f; q++ {
		// Output f*m+q of the zero-stuffed convolution is the sum over i
		// of h[q+f*i] * x[m-i]; each phase is normalised to unit DC gain.
		sum := 0.0
		for i := range taps {
			sum += h[q+f*i]
		}
		phase[q] = make([]float64, taps)
		abs := 0.0
		for i := range taps {
			c := h[q+f*i] / sum
			k := taps - 1 - i // oldest sample first
			phase[q][k] = c
			ip.coef[k*(f-1)+q-1] = float32(c)
			abs += math.Abs(c)
		}
		ip.Gain = max(ip.Gain, abs)
		slope, b := curveWeights(phase[q], float64(q)/float64(f))
		curve := 0.0
		for _, v := range b {
			curve += v * v
		}
		ip.Slope = max(ip.Slope, math.Abs(slope))
		ip.Curve = max(ip.Curve, math.Sqrt(curve))
	}
	// Headroom for float32 rounding in the sums.
	ip.Gain *= 1 + 1e-5
	ip.Slope *= 1 + 1e-5
	ip.Curve *= 1 + 1e-5
	ip.slope32, ip.curve2 = float32(ip.Slope), ip.Curve*ip.Curve
	if f == 4 {
		// h even makes phase 3 phase 1 reversed and phase 2 its own
		// reverse: with s = run[i]+run[23-i] and d = run[i]-run[23-i],
		// phase 2 is the sum of c2[i]*s, and phases 1 and 3 are A+B and
		// A-B for A the sum of (c1[i]+c1[23-i])/2*s and B that of
		// (c1[i]-c1[23-i])/2*d.
		for i := range taps / 2 {
			c1, c1r := phase[1][i], phase[1][taps-1-i]
			ip.fold[3*i] = float32((c1 + c1r) / 2)
			ip.fold[3*i+1] = float32((c1 - c1r) / 2)
			ip.fold[3*i+2] = float32(phase[2][i])
		}
	}
	return ip
}

// RunPeak returns the largest |value| interpolated between the two middle
// samples of run (len InterpolatorTaps).
//
// At 4x it works on the filter folded on its symmetry: 36 multiplies
// instead of 72, and the larger of |A+B| and |A-B| (phases 1 and 3) is
// |A|+|B|.
func (ip *Interpolator) RunPeak(run []float32) float32 {
	if ip.Factor == 4 {
		const half = InterpolatorTaps / 2
		lo := (*[half]float32)(run[:half])
		hi := (*[half]float32)(run[half:InterpolatorTaps])
		c := &ip.fold
		var a0, a1, b0, b1, m0, m1 float32
		for i := 0; i < half; i += 2 {
			x0, y0 := lo[i], hi[half-1-i]
			x1, y1 := lo[i+1], hi[half-2-i]
			s0, d0 := x0+y0, x0-y0
			s1, d1 := x1+y1, x1-y1
			k := (*[6]float32)(c[3*i:])
			a0 += k[0] * s0
			b0 += k[1] * d0
			m0 += k[2] * s0
			a1 += k[3] * s1
			b1 += k[4] * d1
			m1 += k[5] * s1
		}
		a, b, m := a0+a1, b0+b1, m0+m1
		return max(abs32(a)+abs32(b), abs32(m))
	}
	r := (*[InterpolatorTaps]float32)(run)
	var pk float32
	q := ip.Factor - 1
	for p := range q {
		var acc float32
		for i := range InterpolatorTaps {
			acc += ip.coef[i*q+p] * r[i]
		}
		pk = max(pk, acc, -acc)
	}
	return pk
}

// PeakAbove returns the largest of floor and the |samples| and
// |interpolated values| of the runs in w (every run that fits, so
// len(w)-InterpolatorTaps+1 of them), skipping those whose bounds show they
// cannot exceed floor. Not safe for concurrent use (it has scratch space).
func (ip *Interpolator) PeakAbove(w []float32, floor float32) float32 {
	for b := 0; b+InterpolatorTaps <= len(w); b += peakBlock {
		e := min(len(w), b+peakBlock+InterpolatorTaps-1)
		m := maxAbs(w[b:e])
		floor = max(floor, m)
		if float64(m)*ip.Gain <= float64(floor) {
			continue
		}
		blk := w[b:e]
		energy := ip.curveEnergy(blk)
		for j := range len(blk) - InterpolatorTaps + 1 {
			run := (*[InterpolatorTaps]float32)(blk[j:])
			e2 := energy[j+InterpolatorTaps-2] - energy[j]
			if ip.below(run[Centre], run[Centre+1], e2, slack(floor, m)) {
				continue
			}
			floor = max(floor, ip.RunPeak(run[:]))
		}
	}
	return floor
}

// Peaks raises out[j] to the true peak of run j of w (the larger of its
// centre sample's magnitude and of the values interpolated after it), for
// each of the len(w)-InterpolatorTaps+1 runs, len(out) of them. Runs whose
// bounds show their peak is at most floor are left alone: a caller that
// only acts above floor need not know them. Not safe for concurrent use.
func (ip *Interpolator) Peaks(w []float32, floor float32, out []float32) {
	for b := 0; b < len(out); b += peakBlock {
		e := min(len(w), b+peakBlock+InterpolatorTaps-1)
		m := maxAbs(w[b:e])
		if float64(m)*ip.Gain <= float64(floor) {
			continue
		}
		blk := w[b:e]
		energy := ip.curveEnergy(blk)
		o := out[b : b+len(blk)-InterpolatorTaps+1]
		sl := slack(floor, m)
		for j := range o {
			run := (*[InterpolatorTaps]float32)(blk[j:])
			e2 := energy[j+InterpolatorTaps-2] - energy[j]
			if ip.below(run[Centre], run[Centre+1], e2, sl) {
				continue
			}
			o[j] = max(o[j], abs32(run[Centre]), ip.RunPeak(run[:]))
		}
	}
}

// below reports whether a run whose middle samples are x0 and x1 and
// whose second differences have energy e2 cannot interpolate above
// floor, given as slack(floor, m) (see Slope and Curve). It is in
// float32 where the slack covers the rounding, and small enough to be
// inlined: it runs for every run of a loud block.
func (ip *Interpolator) below(x0, x1 float32, e2 float64, slack float32) bool {
	rest := slack - max(abs32(x0), abs32(x1)) - ip.slope32*abs32(x1-x0)
	return rest > 0 && ip.curve2*e2 <= float64(rest)*float64(rest)
}

// slack is floor less what rounding can add to an interpolated value in a
// block whose largest |sample| is m: RunPeak's float32 sums may exceed
// the exact value by a few 1e-6 of m, and below's float32 arithmetic by
// less (floor is under Gain*m wherever below is asked).
func slack(floor, m float32) float32 { return floor - 4e-6*m }

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// curveEnergy fills ip.energy with the running energy of w's second
// differences (see energy) and returns it: len(w)-1 entries, the first 0.
func (ip *Interpolator) curveEnergy(w []float32) []float64 {
	if len(w) < 3 {
		return nil
	}
	energy := ip.energy[:len(w)-1]
	energy[0] = 0
	var acc float64
	x0, x1 := float64(w[0]), float64(w[1])
	for i, v := range w[2:] {
		x2 := float64(v)
		d := x0 - 2*x1 + x2
		acc += d * d
		energy[i+1] = acc
		x0, x1 = x1, x2
	}
	return energy
}

// maxAbs returns the largest |x|. The magnitudes of finite floats order as
// their bit patterns without the sign do, and integer max is cheaper than
// float max (which must mind NaN and signed zeros).
func maxAbs(x []float32) float32 {
	var m0, m1 uint32
	i := 0
	for ; i+1 < len(x); i += 2 {
		a := math.Float32bits(x[i]) &^ (1 << 31)
		b := math.Float32bits(x[i+1]) &^ (1 << 31)
		m0, m1 = max(m0, a), max(m1, b)
	}
	if i < len(x) {
		m0 = max(m0, math.Float32bits(x[i])&^(1<<31))
	}
	return math.Float32frombits(max(m0, m1))
}

// curveWeights returns, for a phase c (oldest sample first) at t between
// c[Centre] and c[Centre+1], the weights behind Slope and Curve: with e =
// c less the straight line's weights 1-t and t, a run x interpolates to
// the line's value plus slope*(x[Centre+1]-x[Centre]) plus the sum of
// b[j-1] times x's second difference at j, 0 < j < len(c)-1, for b[j-1]
// the sum of e[k]*|k-j| over the k on the far side of j from the centre.
// (That needs c to sum to 1, as each phase is normalised to.)
func curveWeights(c []float64, t float64) (slope float64, b []float64) {
	e := append([]float64(nil), c...)
	e[Centre] -= 1 - t
	e[Centre+1] -= t
	for k := range e {
		slope += e[k] * float64(k-Centre)
	}
	b = make([]float64, len(e)-2)
	for j := 1; j < len(e)-1; j++ {
		if j > Centre {
			for k := j + 1; k < len(e); k++ {
				b[j-1] += e[k] * float64(k-j)
			}
		} else {
			for k := range j {
				b[j-1] += e[k] * float64(j-k)
			}
		}
	}
	return slope, b
}

// bessel0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges fast for the arguments a Kaiser window uses).
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
