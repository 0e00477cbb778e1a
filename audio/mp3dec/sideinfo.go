package mp3dec

// Block types of a granule's window (ISO/IEC 11172-3 2.4.2.7 block_type).
const (
	blockLong  = 0
	blockStart = 1
	blockShort = 2
	blockStop  = 3
)

// granule is the side information of one channel in one granule.
type granule struct {
	part23     int // bits of scale factors and Huffman data
	bigValues  int
	globalGain int
	sfCompress int
	blockType  int
	mixed      bool
	table      [3]int
	subGain    [3]int
	region1    int // first spectral line of region 1
	region2    int // first spectral line of region 2
	preflag    bool
	sfScale    int
	count1B    bool // count1 table B (4 plain bits) instead of A
}

// sideInfo is a frame's side information.
type sideInfo struct {
	mainDataBegin int
	scfsi         [2][4]bool
	gr            [2][2]granule // [granule][channel]
}

// parseSideInfo reads the side information from r (positioned right after
// the header and CRC) and fills the region boundaries.
func parseSideInfo(r *bitReader, h *header, si *sideInfo) {
	nch := h.channels
	if h.lsf() {
		si.mainDataBegin = r.read(8)
		r.read(nch) // private bits
	} else {
		si.mainDataBegin = r.read(9)
		r.read(7 - 2*nch) // 5 private bits for mono, 3 for stereo
		for ch := 0; ch < nch; ch++ {
			for b := 0; b < 4; b++ {
				si.scfsi[ch][b] = r.flag()
			}
		}
	}
	bands := &bandTables[h.rateIdx]
	for gr := 0; gr < h.granules(); gr++ {
		for ch := 0; ch < nch; ch++ {
			g := &si.gr[gr][ch]
			*g = granule{}
			g.part23 = r.read(12)
			g.bigValues = r.read(9)
			g.globalGain = r.read(8)
			if h.lsf() {
				g.sfCompress = r.read(9)
			} else {
				g.sfCompress = r.read(4)
			}
			if r.flag() { // window switching
				g.blockType = r.read(2)
				// Only short blocks can be mixed.
				g.mixed = r.flag() && g.blockType == blockShort
				g.table[0] = r.read(5)
				g.table[1] = r.read(5)
				for w := 0; w < 3; w++ {
					g.subGain[w] = r.read(3)
				}
				// The standard implies region0_count 7 (8 for pure short
				// blocks, counted in short bands of one window) and
				// region1_count 36: everything else is region 1.
				if g.blockType == blockShort {
					g.region1 = 3 * bands.short[3]
				} else {
					g.region1 = bands.long[8]
				}
				g.region2 = 576
			} else {
				for i := 0; i < 3; i++ {
					g.table[i] = r.read(5)
				}
				r0 := r.read(4)
				r1 := r.read(3)
				g.region1 = bands.long[min(r0+1, 22)]
				g.region2 = bands.long[min(r0+r1+2, 22)]
			}
			if !h.lsf() {
				g.preflag = r.flag()
			}
			g.sfScale = r.read(1)
			g.count1B = r.flag()
		}
	}
}
