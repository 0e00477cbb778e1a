// Package mp3dec decodes MPEG audio Layer III (MPEG-1, MPEG-2 LSF and
// MPEG-2.5) frame by frame into float32 samples, without allocating, for
// the station's playout, where decoding every played file in real time
// must cost little CPU. It is written from ISO/IEC 11172-3 and 13818-3.
//
// Bad input never panics. A frame whose header is invalid is refused with
// an error and nothing else happens. A frame whose bit reservoir is not
// there (the first frames after the start of a stream or a seek) decodes
// as silence, without error: the reservoir fills from its bytes. A frame
// whose main data is corrupt is decoded with the damaged granules silent
// and reports ErrCorrupt alongside the full sample count.
//
// Not supported: free format (ErrFreeFormat), and the Layer I and II
// frames that share the header. Mixed blocks at MPEG-2.5 8 kHz, whose
// long part does not end at a short band boundary, leave the lines in
// between silent. No encoder at hand writes intensity stereo or mixed
// blocks, so those paths are checked only against the standards' formulas.
package mp3dec

import (
	"fmt"
	"math"
)

// reservoirMax is the most main data a frame can take from earlier frames
// (main_data_begin has 9 bits in MPEG-1, 8 in the others).
const reservoirMax = 511

// mainSize holds the reservoir and the main data of the largest frame
// (1441 bytes) with mainPad zero bytes after the data, for the bit
// reader's lookahead and for reads that run past a corrupt granule's end
// before it is checked (scale factors: at most 160 bits).
const (
	mainSize = 2048
	mainPad  = 64
)

// Decoder decodes Layer III frames one at a time. The zero value is not
// usable; use New.
type Decoder struct {
	main    [mainSize]byte // reservoir, then this frame's main data
	mainLen int

	si      sideInfo
	sc      [2]scales
	q       [576]int32
	xr      [2][576]float32
	nz      [2]int // lines of xr that may be nonzero
	tmp     [576]float32
	overlap [2][32][18]float32
	sub     [18][32]float32
	syn     [2]synthState
}

// New returns a Decoder ready for the first frame of a stream.
func New() *Decoder { return &Decoder{} }

// Reset forgets the reservoir and all filter state (used after a seek).
func (d *Decoder) Reset() { *d = Decoder{} }

// DecodeFrame decodes one whole frame (header included, as found in the
// file) into dst as interleaved float32 stereo in [-1,1) (a mono frame is
// written to both channels) and returns the number of values written:
// 2*1152 for MPEG-1, 2*576 for MPEG-2 and 2.5. dst must hold 2*1152. It
// keeps the bit reservoir and the IMDCT overlap and synthesis state
// between calls.
//
// On ErrHeader, ErrFreeFormat and ErrShortFrame n is 0 and the state is
// unchanged. On ErrCorrupt n is the full count and dst holds the frame
// with its damaged granules silent.
func (d *Decoder) DecodeFrame(frame []byte, dst []float32) (int, error) {
	h, err := parseHeader(frame)
	if err != nil {
		return 0, err
	}
	if len(dst) < 2*1152 {
		return 0, fmt.Errorf("mp3dec: %w: dst holds %d values", ErrShortFrame, len(dst))
	}
	sideStart := 4
	if h.crc {
		sideStart += 2
	}
	sideEnd := sideStart + h.sideInfoSize()
	if len(frame) < sideEnd {
		return 0, fmt.Errorf("mp3dec: %w: %d bytes, side information ends at %d", ErrShortFrame, len(frame), sideEnd)
	}
	var side [32 + 8]byte
	copy(side[:], frame[sideStart:sideEnd])
	r := bitReader{buf: side[:]}
	parseSideInfo(&r, &h, &d.si)

	data := frame[sideEnd:max(sideEnd, min(len(frame), h.size))]
	have := d.fill(data, d.si.mainDataBegin)

	corrupt := false
	pos := 0
	b := &bandTables[h.rateIdx]
	isJoint := h.mode == modeJoint
	n := 576 * h.granules()
	for gr := 0; gr < h.granules(); gr++ {
		for ch := 0; ch < h.channels; ch++ {
			g := &d.si.gr[gr][ch]
			start, end := pos, pos+g.part23
			pos = end
			if !have || end > d.mainLen*8 {
				corrupt = corrupt || have
				clear(d.xr[ch][:])
				d.nz[ch] = 0
				continue
			}
			r := bitReader{buf: d.main[:], pos: start}
			preflag := g.preflag
			if h.lsf() {
				preflag = readScalesLSF(&r, g, isJoint && h.modeExt&1 != 0 && ch == 1, &d.sc[ch])
			} else {
				readScalesV1(&r, g, &d.si.scfsi[ch], gr, &d.sc[ch])
			}
			nz, ok := 0, r.pos <= end
			if ok {
				nz, ok = readSpectrum(&r, g, end, &d.q)
			}
			if !ok {
				corrupt = true
				clear(d.xr[ch][:])
				d.nz[ch] = 0
				continue
			}
			requantize(g, &d.sc[ch], preflag, b, &d.q, nz, &d.xr[ch])
			d.nz[ch] = nz
		}
		if h.channels == 2 {
			d.stereo(&h, gr)
		}
		out := dst[gr*1152:]
		for ch := 0; ch < h.channels; ch++ {
			d.hybrid(ch, &d.si.gr[gr][ch], b, &d.sub)
			d.syn[ch].synth(&d.sub, out[ch:], 2)
		}
		if h.channels == 1 {
			for i := 0; i < 1152; i += 2 {
				out[i+1] = out[i]
			}
		}
		clip((*[1152]float32)(out))
	}
	if corrupt {
		return 2 * n, fmt.Errorf("mp3dec: %w", ErrCorrupt)
	}
	return 2 * n, nil
}

// fill puts the frame's main data after the mainDataBegin bytes of the
// reservoir it starts in, at the front of d.main, and reports whether the
// reservoir held that many bytes. When it did not, the frame's data is
// still kept as the reservoir of the frames that follow.
func (d *Decoder) fill(data []byte, mainDataBegin int) bool {
	have := mainDataBegin <= d.mainLen
	keep := mainDataBegin
	if !have {
		keep = min(d.mainLen, reservoirMax)
	}
	copy(d.main[:], d.main[d.mainLen-keep:d.mainLen])
	data = data[:min(len(data), mainSize-mainPad-keep)]
	copy(d.main[keep:], data)
	d.mainLen = keep + len(data)
	clear(d.main[d.mainLen : d.mainLen+mainPad])
	return have
}

// maxSample is the largest float32 below 1.
var maxSample = math.Nextafter32(1, 0)

// clip keeps samples in [-1, 1): loud passages decode a little past full
// scale, as the encoder's quantisation adds to peaks.
func clip(x *[1152]float32) {
	for i, v := range x {
		if v > maxSample {
			x[i] = maxSample
		} else if v < -1 {
			x[i] = -1
		}
	}
}
