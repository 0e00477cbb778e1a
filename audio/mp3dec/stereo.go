package mp3dec

import "math"

// Intensity stereo factors: MPEG-1 positions 0..6 give the left and right
// shares tan(pos·π/12)/(1+tan) and 1/(1+tan) (ISO/IEC 11172-3
// 2.4.3.4.9.3); the lower sampling frequencies use powers of 2^(-1/4) or
// 2^(-1/2) chosen by the right channel's scalefac_compress (ISO/IEC
// 13818-3 2.4.3.2).
var (
	isLeftV1, isRightV1 [7]float32
	isLSF               [2][32]float32 // [intensity_scale][k]: io^k
)

const invSqrt2 = float32(math.Sqrt2 / 2)

func init() {
	for pos := range isLeftV1 {
		if pos == 6 {
			isLeftV1[pos], isRightV1[pos] = 1, 0
			continue
		}
		t := math.Tan(float64(pos) * math.Pi / 12)
		isLeftV1[pos] = float32(t / (1 + t))
		isRightV1[pos] = float32(1 / (1 + t))
	}
	for k := range 32 {
		isLSF[0][k] = float32(math.Exp2(-float64(k) / 4))
		isLSF[1][k] = float32(math.Exp2(-float64(k) / 2))
	}
}

// stereo undoes joint stereo coding in d.xr for granule gr: mid/side and
// intensity stereo, each where the header's mode extension enables it.
func (d *Decoder) stereo(h *header, gr int) {
	if h.mode != modeJoint || h.modeExt == 0 {
		return
	}
	ms := h.modeExt&2 != 0
	nz := max(d.nz[0], d.nz[1])
	if h.modeExt&1 == 0 {
		midSide(d.xr[0][:nz], d.xr[1][:nz])
		d.nz[0], d.nz[1] = nz, nz
		return
	}
	g := &d.si.gr[gr][1]
	s := &d.sc[1]
	b := &bandTables[h.rateIdx]
	l, r := &d.xr[0], &d.xr[1]
	// apply treats lines [from, to): intensity with position pos unless
	// it is illegal, else mid/side if enabled.
	apply := func(from, to, pos, illegal int) {
		if from >= to {
			return
		}
		if pos == illegal || (!h.lsf() && pos >= 7) {
			if ms {
				midSide(l[from:to], r[from:to])
			}
			return
		}
		var kl, kr float32
		switch {
		case !h.lsf():
			kl, kr = isLeftV1[pos], isRightV1[pos]
		case pos&1 == 1:
			kl, kr = isLSF[g.sfCompress&1][(pos+1)/2], 1
		default:
			kl, kr = 1, isLSF[g.sfCompress&1][pos/2]
		}
		for i := from; i < to; i++ {
			v := l[i]
			l[i], r[i] = v*kl, v*kr
		}
	}
	illegalL := func(sfb int) int {
		if h.lsf() {
			return s.maxL[sfb]
		}
		return 7
	}
	if g.blockType != blockShort {
		nzR := d.nz[1]
		for sfb := 0; sfb < 22; sfb++ {
			from, to := b.long[sfb], b.long[sfb+1]
			if from < nzR {
				if ms {
					midSide(l[from:to], r[from:to])
				}
				continue
			}
			p := min(sfb, 20) // the last band has no factor: it takes band 20's
			apply(from, to, s.long[p], illegalL(p))
		}
		d.nz[0], d.nz[1] = 576, 576
		return
	}
	// Short blocks: the bound is found per window, from the highest band
	// holding a nonzero right-channel line.
	firstShort := 0
	var top [3]int // per window: bands below this are not intensity coded
	for w := 0; w < 3; w++ {
		for sfb := 12; sfb >= 0; sfb-- {
			width := b.short[sfb+1] - b.short[sfb]
			start := 3*b.short[sfb] + w*width
			if nonzero(r[start : start+width]) {
				top[w] = sfb + 1
				break
			}
		}
	}
	if g.mixed {
		firstShort = 3
		// The long part is intensity coded only if no short band holds
		// right-channel data.
		longEnd := 0
		for longEnd < 22 && b.long[longEnd+1] <= 36 {
			longEnd++
		}
		allEmpty := top[0] <= 3 && top[1] <= 3 && top[2] <= 3
		nzR := min(d.nz[1], 36)
		for sfb := 0; sfb < longEnd; sfb++ {
			from, to := b.long[sfb], b.long[sfb+1]
			if !allEmpty || from < nzR {
				if ms {
					midSide(l[from:to], r[from:to])
				}
				continue
			}
			apply(from, to, s.long[sfb], illegalL(sfb))
		}
		for w := range top {
			top[w] = max(top[w], 3)
		}
	}
	for sfb := firstShort; sfb < 13; sfb++ {
		width := b.short[sfb+1] - b.short[sfb]
		for w := 0; w < 3; w++ {
			from := 3*b.short[sfb] + w*width
			if sfb < top[w] {
				if ms {
					midSide(l[from:from+width], r[from:from+width])
				}
				continue
			}
			p := min(sfb, 11)
			illegal := 7
			if h.lsf() {
				illegal = s.maxS[p][w]
			}
			apply(from, from+width, s.short[p][w], illegal)
		}
	}
	d.nz[0], d.nz[1] = 576, 576
}

func nonzero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return true
		}
	}
	return false
}

// midSide turns mid and side lines into left and right.
func midSide(l, r []float32) {
	r = r[:len(l)]
	for i, m := range l {
		s := r[i]
		l[i], r[i] = (m+s)*invSqrt2, (m-s)*invSqrt2
	}
}
