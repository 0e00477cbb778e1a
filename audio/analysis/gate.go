package analysis

import "math"

// The gate keeps the 400 ms blocks that pass the absolute gate (-70 LUFS)
// in a histogram of 0.02 LU bins up to +30 LUFS, each bin with the exact
// sum of its blocks' energies: memory is fixed however long the track,
// and only the blocks in the one bin that straddles the relative gate are
// gated as a group (an error far below the 0.1 LU a meter shows).
const (
	gateAbsolute = -70.0 // LUFS
	gateRelative = -10.0 // LU below the absolutely gated loudness
	gateStep     = 0.02
	gateBins     = int((30 - gateAbsolute) / gateStep)
)

type gate struct {
	sum [gateBins]float64 // energies (mean squares, channel-summed)
	n   [gateBins]uint32  // blocks
}

// lufs is the loudness of a block's mean-square energy (BS.1770-4 eq. 2).
func lufs(energy float64) float64 { return -0.691 + 10*math.Log10(energy) }

func (g *gate) add(energy float64) {
	l := lufs(energy)
	if !(l > gateAbsolute) { // also drops NaN and silence (-Inf)
		return
	}
	bin := min(int((l-gateAbsolute)/gateStep), gateBins-1)
	g.sum[bin] += energy
	g.n[bin]++
}

// integrated returns the gated loudness; false when no block passed the
// absolute gate.
func (g *gate) integrated() (float64, bool) {
	var sum, n float64
	for i := range g.sum {
		sum += g.sum[i]
		n += float64(g.n[i])
	}
	if n == 0 {
		return 0, false
	}
	threshold := lufs(sum/n) + gateRelative
	sum, n = 0, 0
	for i := range g.sum {
		if g.n[i] == 0 {
			continue
		}
		lo := gateAbsolute + float64(i)*gateStep
		if lo+gateStep <= threshold ||
			(lo <= threshold && lufs(g.sum[i]/float64(g.n[i])) <= threshold) {
			continue
		}
		sum += g.sum[i]
		n += float64(g.n[i])
	}
	return lufs(sum / n), true
}
