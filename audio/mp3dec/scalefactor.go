package mp3dec

// scales holds one channel's scale factors. For the right channel of an
// intensity-stereo frame of the lower sampling frequencies, the factors are
// intensity positions, and maxL/maxS the illegal position of each band
// (all bits set), which means "no intensity stereo here".
type scales struct {
	long  [22]int
	short [13][3]int
	maxL  [22]int
	maxS  [13][3]int
}

// readScalesV1 reads MPEG-1 scale factors (ISO/IEC 11172-3 2.4.2.7). In
// the second granule, bands whose scfsi bit is set keep the first
// granule's factors, which s still holds.
func readScalesV1(r *bitReader, g *granule, scfsi *[4]bool, gr int, s *scales) {
	n1, n2 := slen1[g.sfCompress], slen2[g.sfCompress]
	if g.blockType == blockShort {
		sfb := 0
		if g.mixed {
			for ; sfb < 8; sfb++ {
				s.long[sfb] = r.read(n1)
			}
			sfb = 3
		}
		for ; sfb < 12; sfb++ {
			n := n1
			if sfb >= 6 {
				n = n2
			}
			for w := 0; w < 3; w++ {
				s.short[sfb][w] = r.read(n)
			}
		}
		s.short[12] = [3]int{}
		return
	}
	// Long blocks: four groups of bands, each reusable by scfsi.
	groups := [5]int{0, 6, 11, 16, 21}
	for i := 0; i < 4; i++ {
		n := n1
		if i >= 2 {
			n = n2
		}
		if gr == 1 && scfsi[i] {
			continue
		}
		for sfb := groups[i]; sfb < groups[i+1]; sfb++ {
			s.long[sfb] = r.read(n)
		}
	}
	s.long[21] = 0
}

// readScalesLSF reads the scale factors of ISO/IEC 13818-3 2.4.3.2 and
// returns the preflag they imply. isRight is set for the right channel of
// an intensity-stereo frame.
func readScalesLSF(r *bitReader, g *granule, isRight bool, s *scales) bool {
	var slen [4]int
	var tab int
	preflag := false
	sfc := g.sfCompress
	if isRight {
		sfc >>= 1
		switch {
		case sfc < 180:
			slen = [4]int{sfc / 36, sfc % 36 / 6, sfc % 36 % 6, 0}
			tab = 3
		case sfc < 244:
			sfc -= 180
			slen = [4]int{sfc % 64 >> 4, sfc % 16 >> 2, sfc % 4, 0}
			tab = 4
		default:
			sfc -= 244
			slen = [4]int{sfc / 3, sfc % 3, 0, 0}
			tab = 5
		}
	} else {
		switch {
		case sfc < 400:
			slen = [4]int{sfc >> 4 / 5, sfc >> 4 % 5, sfc & 15 >> 2, sfc & 3}
			tab = 0
		case sfc < 500:
			sfc -= 400
			slen = [4]int{sfc >> 2 / 5, sfc >> 2 % 5, sfc & 3, 0}
			tab = 1
		default:
			sfc -= 500
			slen = [4]int{sfc / 3, sfc % 3, 0, 0}
			tab = 2
			preflag = true
		}
	}
	kind := 0
	if g.blockType == blockShort {
		kind = 1
		if g.mixed {
			kind = 2
		}
	}
	*s = scales{}
	k := 0 // index of the factor in transmission order
	for i, count := range lsfCounts[tab][kind] {
		n := slen[i]
		for j := 0; j < count; j++ {
			v, m := r.read(n), 1<<uint(n)-1
			switch {
			case kind == 0:
				s.long[k], s.maxL[k] = v, m
			case kind == 2 && k < 6:
				s.long[k], s.maxL[k] = v, m
			default:
				j := k
				if kind == 2 {
					j = k - 6 + 9 // the short part starts at band 3
				}
				s.short[j/3][j%3], s.maxS[j/3][j%3] = v, m
			}
			k++
		}
	}
	return preflag
}
