package mp3dec

import "math"

// The hybrid filter bank's frequency-domain half: alias reduction between
// long-block subbands, the IMDCT of each subband with its window, overlap
// with the previous granule's second half, and frequency inversion
// (ISO/IEC 11172-3 2.4.3.4.10 and Annex A).

var (
	aliasCs, aliasCa [8]float32
	// imdctLong[i][k] is cos(π/72·(2i+19)(2k+1)) for the 9 outputs i
	// of the first quarter and, at i+9, of the third; the other two
	// quarters are their mirror images.
	imdctLong [18][18]float32
	// imdctShort[i][k] is cos(π/24·(2i+7)(2k+1)).
	imdctShort [12][6]float32
	// windows[bt] is the window of block type bt (short: the 12-point one).
	windows [4][36]float32
)

func init() {
	ci := [8]float64{-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037}
	for i, c := range ci {
		n := math.Sqrt(1 + c*c)
		aliasCs[i] = float32(1 / n)
		aliasCa[i] = float32(c / n)
	}
	for i := 0; i < 9; i++ {
		for k := 0; k < 18; k++ {
			imdctLong[i][k] = float32(math.Cos(math.Pi / 72 * float64((2*i+19)*(2*k+1))))
			imdctLong[i+9][k] = float32(math.Cos(math.Pi / 72 * float64((2*(i+18)+19)*(2*k+1))))
		}
	}
	for i := 0; i < 12; i++ {
		for k := 0; k < 6; k++ {
			imdctShort[i][k] = float32(math.Cos(math.Pi / 24 * float64((2*i+7)*(2*k+1))))
		}
	}
	sin := func(n, i int) float32 { return float32(math.Sin(math.Pi / float64(n) * (float64(i) + 0.5))) }
	for i := 0; i < 36; i++ {
		windows[blockLong][i] = sin(36, i)
	}
	for i := 0; i < 18; i++ {
		windows[blockStart][i] = sin(36, i)
		windows[blockStop][i+18] = sin(36, i+18)
	}
	for i := 18; i < 24; i++ {
		windows[blockStart][i] = 1
		windows[blockStop][i-6] = 1
	}
	for i := 24; i < 30; i++ {
		windows[blockStart][i] = sin(12, i-18)
		windows[blockStop][i-18] = sin(12, i-24)
	}
	for i := 0; i < 12; i++ {
		windows[blockShort][i] = sin(12, i)
	}
}

// hybrid turns channel ch's spectral lines d.xr[ch] (nz of them may be
// nonzero) into 18 time slots of 32 subband samples in out.
func (d *Decoder) hybrid(ch int, g *granule, b *bands, out *[18][32]float32) {
	xr := &d.xr[ch]
	nz := d.nz[ch]
	short := g.blockType == blockShort
	active := min((nz+17)/18, 32) // subbands holding nonzero lines
	if short {
		active = d.reorder(xr, g.mixed, b, nz)
		xr = &d.tmp
	}
	if !short || g.mixed {
		last := active
		if g.mixed {
			last = min(last, 1)
		}
		for sb := 1; sb <= last && sb < 32; sb++ {
			p := xr[sb*18-8 : sb*18+8]
			for i := 0; i < 8; i++ {
				lo, hi := p[7-i], p[8+i]
				p[7-i] = lo*aliasCs[i] - hi*aliasCa[i]
				p[8+i] = hi*aliasCs[i] + lo*aliasCa[i]
			}
		}
		if !g.mixed {
			active = min(active+1, 32)
		}
	}
	ov := &d.overlap[ch]
	for sb := 0; sb < 32; sb++ {
		o := &ov[sb]
		if sb >= active {
			for t := 0; t < 18; t++ {
				out[t][sb] = o[t]
			}
			*o = [18]float32{}
		} else {
			in := (*[18]float32)(xr[sb*18 : sb*18+18])
			var z [18]float32
			if short && (!g.mixed || sb >= 2) {
				imdctShort3(in, o, &z)
			} else {
				bt := g.blockType
				if g.mixed {
					bt = blockLong
				}
				imdct36(in, &windows[bt], o, &z)
			}
			for t := 0; t < 18; t++ {
				out[t][sb] = z[t]
			}
		}
		if sb&1 == 1 {
			for t := 1; t < 18; t += 2 {
				out[t][sb] = -out[t][sb]
			}
		}
	}
}

// imdct36 computes the 36-point IMDCT of in, windows it, and returns in
// out its first half plus the overlap, which then takes the second half.
func imdct36(in *[18]float32, win *[36]float32, overlap, out *[18]float32) {
	var x [36]float32
	for i := 0; i < 9; i++ {
		c, e := &imdctLong[i], &imdctLong[i+9]
		var a, b float32
		for k := 0; k < 18; k++ {
			a += in[k] * c[k]
			b += in[k] * e[k]
		}
		x[i], x[17-i] = a, -a
		x[18+i], x[35-i] = b, b
	}
	for i := 0; i < 18; i++ {
		out[i] = x[i]*win[i] + overlap[i]
		overlap[i] = x[18+i] * win[18+i]
	}
}

// imdctShort3 does the three 12-point IMDCTs of a short-block subband
// (in holds window w's 6 lines at 6w) and overlaps them at 6, 12 and 18
// of the 36-sample block.
func imdctShort3(in *[18]float32, overlap, out *[18]float32) {
	var z [36]float32
	win := &windows[blockShort]
	for w := 0; w < 3; w++ {
		x := in[6*w : 6*w+6]
		for i := 0; i < 12; i++ {
			c := &imdctShort[i]
			var s float32
			for k := 0; k < 6; k++ {
				s += x[k] * c[k]
			}
			z[6+6*w+i] += s * win[i]
		}
	}
	for i := 0; i < 18; i++ {
		out[i] = z[i] + overlap[i]
		overlap[i] = z[18+i]
	}
}

// reorder moves the short-block lines of xr into d.tmp so that subband sb
// holds window w's 6 lines at sb*18+6w; the long part of a mixed block
// is copied as it is. It returns how many subbands may hold nonzero lines.
func (d *Decoder) reorder(xr *[576]float32, mixed bool, b *bands, nz int) int {
	t := &d.tmp
	first := 0
	if mixed {
		copy(t[:36], xr[:36])
		clear(t[36:])
		first = 3
	} else {
		clear(t[:])
	}
	end := 0 // first line of any window above the data
	if mixed {
		end = 12
	}
	for sfb := first; sfb < 13 && 3*b.short[sfb] < nz; sfb++ {
		start, width := b.short[sfb], b.short[sfb+1]-b.short[sfb]
		end = start + width
		for w := 0; w < 3; w++ {
			src := xr[3*start+w*width : 3*start+(w+1)*width]
			for k, v := range src {
				f := start + k
				t[f/6*18+w*6+f%6] = v
			}
		}
	}
	return min((end+5)/6, 32)
}
