package resample

import (
	"math"
	"math/cmplx"
	"testing"
)

// listedRates are the MP3 rates converted to 48 kHz for Opus.
var listedRates = []int{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100}

// prototype rebuilds the filter actually used (after per-phase
// normalisation and float32 rounding) in time order, scaled to unit DC gain.
func prototype(b *bank) []float64 {
	h := make([]float64, taps*b.l)
	for p := range b.l {
		for j := range taps {
			h[p+(taps-1-j)*b.l] = float64(b.coef[p*taps+j]) / float64(b.l)
		}
	}
	return h
}

// response is |H(f)| for f in units of the upsampled rate (0..0.5).
func response(h []float64, f float64) float64 {
	var s complex128
	step := cmplx.Exp(complex(0, -2*math.Pi*f))
	z := complex(1, 0)
	for _, v := range h {
		s += complex(v, 0) * z
		z *= step
	}
	return cmplx.Abs(s)
}

// TestBankResponse checks the design promise for every listed ratio: flat
// passband, and ≥ 90 dB attenuation from the stopband edge fl − fc (where
// images of anything passed at -6 dB land) up to the upsampled Nyquist.
func TestBankResponse(t *testing.T) {
	for _, in := range append(listedRates, 96000) {
		r := mustNew(t, in, 48000, 2)
		b := r.cur.bank
		h := prototype(b)
		fu := float64(b.l * in) // upsampled rate, Hz
		fl := float64(min(in, 48000))
		fc := b.cutoff * fl
		df := transitionWidth(len(h)) * fu
		pass, stop := fc-df/2, fl-fc

		var ripple float64
		for f := 0.0; f <= pass; f += pass / 200 {
			ripple = max(ripple, math.Abs(response(h, f/fu)-1))
		}
		worst := 0.0
		const points = 3000
		for i := range points + 1 {
			f := stop + (fu/2-stop)*float64(i)/points
			worst = max(worst, response(h, f/fu))
		}
		t.Logf("%6d→48000 L/M=%d/%d: fc=%.0f Hz, flat to %.0f Hz (ripple %.1e = %.5f dB), stopband from %.0f Hz at %.1f dB",
			in, b.l, b.m, fc, pass, ripple, db(1+ripple), stop, db(worst))
		if ripple > 5e-5 {
			t.Errorf("%d Hz: passband ripple %.2e, want ≤ 5e-5", in, ripple)
		}
		if db(worst) > -90 {
			t.Errorf("%d Hz: stopband peak %.1f dB, want ≤ -90 dB", in, db(worst))
		}
		if fc >= fl/2 {
			t.Errorf("%d Hz: cutoff %.0f Hz not below the lower Nyquist %.0f Hz", in, fc, fl/2)
		}
	}
}
