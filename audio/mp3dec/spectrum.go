package mp3dec

// readSpectrum decodes the Huffman-coded values of one granule and channel
// from r, which must end at bit end, into q, and returns how many leading
// values may be nonzero (the rest of q is zeroed). ok is false when the
// data is inconsistent: a code read past end, or a table that does not
// exist.
func readSpectrum(r *bitReader, g *granule, end int, q *[576]int32) (n int, ok bool) {
	bv := min(g.bigValues*2, 576)
	ok = g.bigValues <= 288
	i := 0
	for region := 0; region < 3 && i < bv; region++ {
		stop := bv
		switch region {
		case 0:
			stop = min(g.region1, bv)
		case 1:
			stop = min(max(g.region2, g.region1), bv)
		}
		tn := g.table[region]
		if !validTable[tn] {
			ok = false
			tn = 0
		}
		if tn == 0 {
			for ; i < stop; i++ {
				q[i] = 0
			}
			continue
		}
		t := &pairTables[tn]
		lb := linbits[tn]
		for ; i < stop; i += 2 {
			if r.pos > end {
				for ; i < 576; i++ {
					q[i] = 0
				}
				return 0, false
			}
			v := r.decode(t)
			x, y := int32(v>>4), int32(v&15)
			if x != 0 {
				if x == 15 && lb > 0 {
					x += int32(r.read(lb))
				}
				if r.read(1) != 0 {
					x = -x
				}
			}
			if y != 0 {
				if y == 15 && lb > 0 {
					y += int32(r.read(lb))
				}
				if r.read(1) != 0 {
					y = -y
				}
			}
			q[i], q[i+1] = x, y
		}
	}
	if r.pos > end {
		for i := range q {
			q[i] = 0
		}
		return 0, false
	}
	// count1 region: quadruples of values -1..1 until the granule's bits
	// end. A quadruple that runs past the end is not part of the data.
	for i+4 <= 576 && r.pos < end {
		start := r.pos
		var v int
		if g.count1B {
			v = 15 - r.read(4)
		} else {
			v = r.decode(&quadTableA)
		}
		var quad [4]int32
		for k := 0; k < 4; k++ {
			if v&(8>>uint(k)) != 0 {
				quad[k] = 1
				if r.read(1) != 0 {
					quad[k] = -1
				}
			}
		}
		if r.pos > end {
			r.pos = start
			break
		}
		q[i], q[i+1], q[i+2], q[i+3] = quad[0], quad[1], quad[2], quad[3]
		i += 4
	}
	n = i
	for ; i < 576; i++ {
		q[i] = 0
	}
	// Trim trailing zeros so later stages skip silent lines.
	for n > 0 && q[n-1] == 0 {
		n--
	}
	return n, ok
}
