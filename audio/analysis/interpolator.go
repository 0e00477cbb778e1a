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
	// Bounds on |interpolated value| for skipping runs that cannot beat a
	// floor: every phase's output is at most Gain times the run's largest
	// |sample|, and (Cauchy-Schwarz on the taps away from the centre) at
	// most Near times the larger of the two samples it lies between plus
	// Far times the square root of the run's energy.
	Gain, Near, Far float64

	energy [peakBlock + 1]float64 // PeakAbove's scratch
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
	ip := &Interpolator{Factor: f, coef: make([]float32, taps*(f-1))}
	for q := 1; q < f; q++ {
		// Output f*m+q of the zero-stuffed convolution is the sum over i
		// of h[q+f*i] * x[m-i]; each phase is normalised to unit DC gain.
		sum := 0.0
		for i := range taps {
			sum += h[q+f*i]
		}
		abs, near, far := 0.0, 0.0, 0.0
		for i := range taps {
			c := h[q+f*i] / sum
			k := taps - 1 - i // oldest sample first
			ip.coef[k*(f-1)+q-1] = float32(c)
			abs += math.Abs(c)
			if k == Centre || k == Centre+1 {
				near += math.Abs(c)
			} else {
				far += c * c
			}
		}
		ip.Gain = max(ip.Gain, abs)
		ip.Near = max(ip.Near, near)
		ip.Far = max(ip.Far, math.Sqrt(far))
	}
	// Headroom for float32 rounding in the sums.
	ip.Gain *= 1 + 1e-5
	ip.Near *= 1 + 1e-5
	ip.Far *= 1 + 1e-5
	return ip
}

// RunPeak returns the largest |value| interpolated between the two middle
// samples of run (len InterpolatorTaps).
func (ip *Interpolator) RunPeak(run []float32) float32 {
	r := (*[InterpolatorTaps]float32)(run)
	if ip.Factor == 4 {
		c := (*[InterpolatorTaps * 3]float32)(ip.coef)
		var a1, a2, a3, b1, b2, b3 float32
		for i := 0; i < InterpolatorTaps; i += 2 {
			x, y := r[i], r[i+1]
			a1 += c[3*i] * x
			a2 += c[3*i+1] * x
			a3 += c[3*i+2] * x
			b1 += c[3*i+3] * y
			b2 += c[3*i+4] * y
			b3 += c[3*i+5] * y
		}
		a1, a2, a3 = a1+b1, a2+b2, a3+b3
		return max(a1, -a1, a2, -a2, a3, -a3)
	}
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
		runs := ip.runEnergy(w[b:e])
		far2 := ip.Far * ip.Far * (1 + 1e-6)
		for j := range runs {
			x0, x1 := w[b+j+Centre], w[b+j+Centre+1]
			rest := float64(floor) - ip.Near*float64(max(x0, -x0, x1, -x1))
			if rest > 0 && far2*ip.energy[j] <= rest*rest {
				continue
			}
			floor = max(floor, ip.RunPeak(w[b+j:b+j+InterpolatorTaps]))
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
		runs := ip.runEnergy(w[b:e])
		far2 := ip.Far * ip.Far * (1 + 1e-6)
		for j := range runs {
			a1, a2 := abs32(w[b+j+Centre]), abs32(w[b+j+Centre+1])
			rest := float64(floor) - ip.Near*float64(max(a1, a2))
			if rest > 0 && far2*ip.energy[j] <= rest*rest {
				continue
			}
			out[b+j] = max(out[b+j], a1, ip.RunPeak(w[b+j:b+j+InterpolatorTaps]))
		}
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// runEnergy fills ip.energy with the sum of squares of each run of w
// (at most peakBlock of them) and returns how many there are.
func (ip *Interpolator) runEnergy(w []float32) int {
	runs := len(w) - InterpolatorTaps + 1
	var acc float64
	for i := range InterpolatorTaps - 1 {
		acc += float64(w[i]) * float64(w[i])
	}
	prev := 0.0
	for j := range runs {
		x := float64(w[j+InterpolatorTaps-1])
		acc += x * x
		ip.energy[j] = acc - prev
		y := float64(w[j])
		prev += y * y
	}
	return runs
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
