package analysis

import "math"

// biquad is one second-order section, normalised so that a0 = 1.
type biquad struct{ b0, b1, b2, a1, a2 float64 }

// kWeighting returns the two stages of the BS.1770 K-weighting filter
// (the high-shelf "pre-filter" modelling the head, then the RLB high-pass)
// for any sample rate. BS.1770 tabulates coefficients for 48 kHz only; the
// analog prototypes behind that table (centre frequency, gain and Q of
// each stage, as published with libebur128) are mapped to rate with the
// bilinear transform, which reproduces the table at 48 kHz.
func kWeighting(rate int) (shelf, highpass biquad) {
	fs := float64(rate)

	// High shelf: +4 dB above about 1.5 kHz.
	const (
		shelfF0 = 1681.974450955533
		shelfG  = 3.999843853973347
		shelfQ  = 0.7071752369554196
	)
	k := math.Tan(math.Pi * shelfF0 / fs)
	vh := math.Pow(10, shelfG/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/shelfQ + k*k
	shelf = biquad{
		b0: (vh + vb*k/shelfQ + k*k) / a0,
		b1: 2 * (k*k - vh) / a0,
		b2: (vh - vb*k/shelfQ + k*k) / a0,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/shelfQ + k*k) / a0,
	}

	// RLB high-pass at about 38 Hz; its numerator is 1, -2, 1 at any rate.
	const (
		hpF0 = 38.13547087602444
		hpQ  = 0.5003270373238773
	)
	k = math.Tan(math.Pi * hpF0 / fs)
	a0 = 1 + k/hpQ + k*k
	highpass = biquad{
		b0: 1, b1: -2, b2: 1,
		a1: 2 * (k*k - 1) / a0,
		a2: (1 - k/hpQ + k*k) / a0,
	}
	return shelf, highpass
}
