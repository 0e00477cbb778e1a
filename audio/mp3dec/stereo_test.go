package mp3dec

import (
	"math"
	"testing"
)

// LAME (and so ffmpeg) never writes intensity stereo, so it is checked
// here against the formulas of the standards on hand-made spectra.

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-6 }

// isSetup makes a decoder whose left channel is 1 on every line and whose
// right channel is 0.5 below line 36 and 0 above: the intensity bound is
// long band 8 (line 36) at 44.1 kHz and 22.05 kHz alike.
func isSetup(positions map[int]int, max int) *Decoder {
	d := New()
	for i := range 576 {
		d.xr[0][i] = 1
		if i < 36 {
			d.xr[1][i] = 0.5
		}
	}
	d.nz = [2]int{576, 36}
	for sfb := range 22 {
		d.sc[1].maxL[sfb] = max
	}
	for sfb, p := range positions {
		d.sc[1].long[sfb] = p
	}
	return d
}

func TestIntensityStereoMPEG1(t *testing.T) {
	h := header{version: mpeg1, mode: modeJoint, modeExt: 1, channels: 2, rateIdx: 0}
	// Bands 8, 9, 10, 11 and 20 (which band 21 shares) at 44.1 kHz.
	d := isSetup(map[int]int{8: 0, 9: 3, 10: 6, 11: 7, 20: 2}, 0)
	d.stereo(&h, 0)
	tan2 := float32(math.Tan(2 * math.Pi / 12))
	for _, tc := range []struct {
		line int
		l, r float32
	}{
		{0, 1, 0.5},  // below the bound: untouched
		{35, 1, 0.5}, // last line below the bound
		{36, 0, 1},   // band 8, position 0: all right
		{44, 0.5, 0.5},
		{52, 1, 0},                               // band 10, position 6: all left
		{62, 1, 0},                               // band 11, position 7 is illegal: left as it was
		{342, tan2 / (1 + tan2), 1 / (1 + tan2)}, // band 20
		{500, tan2 / (1 + tan2), 1 / (1 + tan2)}, // band 21 uses band 20's position
	} {
		if l, r := d.xr[0][tc.line], d.xr[1][tc.line]; !near(l, tc.l) || !near(r, tc.r) {
			t.Errorf("line %d: %v, %v; want %v, %v", tc.line, l, r, tc.l, tc.r)
		}
	}
}

func TestIntensityStereoWithMidSide(t *testing.T) {
	h := header{version: mpeg1, mode: modeJoint, modeExt: 3, channels: 2, rateIdx: 0}
	d := isSetup(map[int]int{8: 7, 9: 3}, 0)
	d.stereo(&h, 0)
	s := float32(math.Sqrt2 / 2)
	for _, tc := range []struct {
		line int
		l, r float32
	}{
		{0, 1.5 * s, 0.5 * s}, // below the bound: mid/side
		{36, s, s},            // illegal position: mid/side
		{44, 0.5, 0.5},        // intensity, no mid/side scaling
	} {
		if l, r := d.xr[0][tc.line], d.xr[1][tc.line]; !near(l, tc.l) || !near(r, tc.r) {
			t.Errorf("line %d: %v, %v; want %v, %v", tc.line, l, r, tc.l, tc.r)
		}
	}
}

func TestIntensityStereoLSF(t *testing.T) {
	h := header{version: mpeg2, mode: modeJoint, modeExt: 1, channels: 2, rateIdx: 3}
	for _, scale := range []int{0, 1} {
		d := isSetup(map[int]int{8: 0, 9: 1, 10: 4, 11: 7}, 7)
		d.si.gr[0][1].sfCompress = scale // intensity_scale is its low bit
		d.stereo(&h, 0)
		io := float32(math.Exp2(-0.25 * float64(scale+1)))
		// Long bands at 22.05 kHz: 8 = 54..65, 9 = 66..79, 10 = 80..95, 11 = 96..115.
		for _, tc := range []struct {
			line int
			l, r float32
		}{
			{54, 1, 1},       // position 0: both as the left channel was
			{66, io, 1},      // odd: the left is lowered
			{80, 1, io * io}, // even: the right is lowered
			{96, 1, 0},       // 7 is illegal with 3-bit factors: untouched
		} {
			if l, r := d.xr[0][tc.line], d.xr[1][tc.line]; !near(l, tc.l) || !near(r, tc.r) {
				t.Errorf("scale %d, line %d: %v, %v; want %v, %v", scale, tc.line, l, r, tc.l, tc.r)
			}
		}
	}
}
