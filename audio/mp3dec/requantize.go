package mp3dec

// requantize turns the decoded values q[:n] into spectral lines xr:
// sign(v)·|v|^(4/3)·2^(exponent/4), the exponent from the global gain,
// the subblock gain and the scale factors (ISO/IEC 11172-3 2.4.3.4.7.1).
// Lines from n on are zeroed. Short-block lines stay in the order of the
// bitstream: band by band, and window by window within a band.
func requantize(g *granule, s *scales, preflag bool, b *bands, q *[576]int32, n int, xr *[576]float32) {
	base := g.globalGain - 210 - gainMin
	mul := 2 * (1 + g.sfScale)
	line := func(from, to, exp int) {
		to = min(to, n)
		if from >= to {
			return
		}
		gain := gainPow[exp]
		for i, v := range q[from:to] {
			if v >= 0 {
				xr[from+i] = pow43[v] * gain
			} else {
				xr[from+i] = -pow43[-v] * gain
			}
		}
	}
	if g.mixed {
		clear(xr[:]) // a gap between the long and short parts stays silent
	}
	shortFrom := 0 // first short band
	if g.blockType != blockShort || g.mixed {
		pre := 0
		if preflag {
			pre = 1
		}
		for sfb := 0; sfb < 22 && b.long[sfb] < n; sfb++ {
			if g.blockType == blockShort && b.long[sfb+1] > 36 {
				break // end of the long part of a mixed block
			}
			line(b.long[sfb], b.long[sfb+1], base-mul*(s.long[sfb]+pre*pretab[sfb]))
		}
		shortFrom = 3
	}
	if g.blockType == blockShort {
		for sfb := shortFrom; sfb < 13 && 3*b.short[sfb] < n; sfb++ {
			width := b.short[sfb+1] - b.short[sfb]
			start := 3 * b.short[sfb]
			for w := 0; w < 3; w++ {
				line(start+w*width, start+(w+1)*width, base-8*g.subGain[w]-mul*s.short[sfb][w])
			}
		}
	}
	clear(xr[n:])
}
