package mp3dec

import "fmt"

// MPEG versions as coded in the header's two version bits.
const (
	mpeg25 = 0
	mpeg2  = 2
	mpeg1  = 3
)

// Channel modes.
const (
	modeStereo = 0
	modeJoint  = 1
	modeDual   = 2
	modeMono   = 3
)

// header is the part of a frame header the decoder needs.
type header struct {
	version  int // mpeg1, mpeg2 or mpeg25
	crc      bool
	bitrate  int // kbit/s
	rate     int // Hz
	rateIdx  int // 0..8 into the band tables: 44.1, 48, 32, 22.05, 24, 16, 11.025, 12, 8 kHz
	padding  bool
	mode     int
	modeExt  int
	channels int
	size     int // bytes in the whole frame
}

// lsf reports the lower sampling frequencies of MPEG-2 and MPEG-2.5: one
// granule per frame and the scale factors of ISO/IEC 13818-3.
func (h *header) lsf() bool { return h.version != mpeg1 }

func (h *header) granules() int {
	if h.lsf() {
		return 1
	}
	return 2
}

// sideInfoSize is the length of the side information in bytes.
func (h *header) sideInfoSize() int {
	switch {
	case !h.lsf() && h.channels == 1:
		return 17
	case !h.lsf():
		return 32
	case h.channels == 1:
		return 9
	}
	return 17
}

// Layer III bitrates in kbit/s by bitrate index, for MPEG-1 and for the
// lower sampling frequencies (ISO/IEC 11172-3 2.4.2.3, 13818-3 2.4.2.3).
var (
	bitratesV1  = [15]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	bitratesLSF = [15]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	ratesV1     = [3]int{44100, 48000, 32000}
)

// parseHeader reads the 4-byte header at the start of b.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < 4 {
		return h, fmt.Errorf("mp3dec: %w: %d bytes", ErrShortFrame, len(b))
	}
	if b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return h, fmt.Errorf("mp3dec: %w: no sync", ErrHeader)
	}
	h.version = int(b[1]>>3) & 3
	if h.version == 1 {
		return h, fmt.Errorf("mp3dec: %w: reserved version", ErrHeader)
	}
	if (b[1]>>1)&3 != 1 {
		return h, fmt.Errorf("mp3dec: %w: not layer III", ErrHeader)
	}
	h.crc = b[1]&1 == 0
	bi := int(b[2] >> 4)
	ri := int(b[2]>>2) & 3
	switch {
	case bi == 0:
		return h, fmt.Errorf("mp3dec: %w", ErrFreeFormat)
	case bi == 15:
		return h, fmt.Errorf("mp3dec: %w: bad bitrate index", ErrHeader)
	case ri == 3:
		return h, fmt.Errorf("mp3dec: %w: bad sampling frequency index", ErrHeader)
	}
	h.padding = b[2]&2 != 0
	h.mode = int(b[3] >> 6)
	h.modeExt = int(b[3]>>4) & 3
	h.channels = 2
	if h.mode == modeMono {
		h.channels = 1
	}
	slot := 144
	switch h.version {
	case mpeg1:
		h.bitrate = bitratesV1[bi]
		h.rate = ratesV1[ri]
		h.rateIdx = ri
	case mpeg2:
		h.bitrate = bitratesLSF[bi]
		h.rate = ratesV1[ri] / 2
		h.rateIdx = 3 + ri
		slot = 72
	default:
		h.bitrate = bitratesLSF[bi]
		h.rate = ratesV1[ri] / 4
		h.rateIdx = 6 + ri
		slot = 72
	}
	h.size = slot * h.bitrate * 1000 / h.rate
	if h.padding {
		h.size++
	}
	return h, nil
}
