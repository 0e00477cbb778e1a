package mp3dec

import (
	"errors"
	"fmt"

	"github.com/onairfm/onair/ingest/mp3"
)

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

// header is the part of a frame header the decoder needs, in the form its
// tables are indexed by.
type header struct {
	version  int // mpeg1, mpeg2 or mpeg25
	crc      bool
	rate     int // Hz
	rateIdx  int // 0..8 into the band tables: 44.1, 48, 32, 22.05, 24, 16, 11.025, 12, 8 kHz
	mode     int
	modeExt  int
	channels int
	side     int // bytes of side information
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
func (h *header) sideInfoSize() int { return h.side }

// parseHeader reads the 4-byte header at the start of b with the
// project's MPEG header parser (ingest/mp3), which the scanner that found
// the frame used too, and keeps what Layer III decoding needs.
func parseHeader(b []byte) (header, error) {
	if len(b) < 4 {
		return header{}, fmt.Errorf("mp3dec: %w: %d bytes", ErrShortFrame, len(b))
	}
	mh, err := mp3.ParseHeader(b)
	switch {
	case errors.Is(err, mp3.ErrFreeFormat):
		return header{}, fmt.Errorf("mp3dec: %w", ErrFreeFormat)
	case err != nil:
		return header{}, fmt.Errorf("mp3dec: %w: %w", ErrHeader, err)
	case mh.Layer != 3:
		return header{}, fmt.Errorf("mp3dec: %w: not layer III", ErrHeader)
	}
	h := header{
		crc:      mh.Protected,
		rate:     mh.SampleRate,
		mode:     int(mh.ChannelMode),
		modeExt:  int(b[3]>>4) & 3,
		channels: mh.Channels,
		side:     mh.SideInfoSize(),
		size:     mh.FrameSize,
	}
	// The band tables go by version, then the header's rate index.
	ri := int(b[2]>>2) & 3
	switch mh.Version {
	case mp3.MPEG1:
		h.version, h.rateIdx = mpeg1, ri
	case mp3.MPEG2:
		h.version, h.rateIdx = mpeg2, 3+ri
	default:
		h.version, h.rateIdx = mpeg25, 6+ri
	}
	return h, nil
}
