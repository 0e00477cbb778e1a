package mp3

import (
	"fmt"
	"time"
)

// Version is the MPEG audio version of a frame.
type Version uint8

// The MPEG versions. The zero Version is not a valid one, so a zero Header
// can never be mistaken for a parsed one.
const (
	MPEG1  Version = iota + 1 // ISO 11172-3: 32, 44.1, 48 kHz
	MPEG2                     // ISO 13818-3 LSF: 16, 22.05, 24 kHz
	MPEG25                    // unofficial extension: 8, 11.025, 12 kHz
)

func (v Version) String() string {
	switch v {
	case MPEG1:
		return "MPEG-1"
	case MPEG2:
		return "MPEG-2"
	case MPEG25:
		return "MPEG-2.5"
	}
	return fmt.Sprintf("Version(%d)", uint8(v))
}

// ChannelMode is the channel mode field of a frame header.
type ChannelMode uint8

// The channel modes, in header order.
const (
	Stereo ChannelMode = iota
	JointStereo
	DualChannel
	Mono
)

func (m ChannelMode) String() string {
	switch m {
	case Stereo:
		return "stereo"
	case JointStereo:
		return "joint stereo"
	case DualChannel:
		return "dual channel"
	case Mono:
		return "mono"
	}
	return fmt.Sprintf("ChannelMode(%d)", uint8(m))
}

// Header is a parsed 4-byte MPEG audio frame header with the values derived
// from it that a player needs: the frame's size in bytes and its duration.
type Header struct {
	Version     Version
	Layer       int // 1, 2 or 3
	Bitrate     int // bit/s
	SampleRate  int // Hz
	Channels    int // 1 or 2
	ChannelMode ChannelMode
	Padding     bool
	// Protected means a 16-bit CRC follows the header.
	Protected bool
	// FrameSize is the whole frame in bytes, header included.
	FrameSize int
	// Samples is the number of PCM samples per channel the frame decodes to.
	Samples int
}

// Duration is how long the frame plays.
func (h Header) Duration() time.Duration {
	if h.SampleRate <= 0 {
		return 0
	}
	return time.Duration(h.Samples) * time.Second / time.Duration(h.SampleRate)
}

// SameFormat reports whether h and o can belong to the same stream: the
// fields that never change between frames of one encoding.
func (h Header) SameFormat(o Header) bool {
	return h.Version == o.Version && h.Layer == o.Layer && h.SampleRate == o.SampleRate
}

// SideInfoSize is the length of the Layer III side information that follows
// the header (and CRC); a Xing tag starts right after it, and a decoder's
// main data.
func (h Header) SideInfoSize() int {
	switch {
	case h.Version == MPEG1 && h.Channels == 1:
		return 17
	case h.Version == MPEG1:
		return 32
	case h.Channels == 1:
		return 9
	default:
		return 17
	}
}

// Bitrates in kbit/s by bitrate index. Index 0 is free format and 15 is
// reserved; both are rejected.
var (
	bitratesV1L1  = [16]int{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, -1}
	bitratesV1L2  = [16]int{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, -1}
	bitratesV1L3  = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1}
	bitratesV2L1  = [16]int{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, -1}
	bitratesV2L23 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1}
)

// Sample rates in Hz by sample rate index; index 3 is reserved.
var (
	rates1  = [3]int{44100, 48000, 32000}
	rates2  = [3]int{22050, 24000, 16000}
	rates25 = [3]int{11025, 12000, 8000}
)

// headerStatus says why a header word was refused, without allocating: the
// scanner tries a header at every byte while resyncing.
type headerStatus uint8

const (
	headerOK headerStatus = iota
	headerNoSync
	headerBadVersion
	headerBadLayer
	headerFreeFormat
	headerBadBitrate
	headerBadRate
	headerBadEmphasis
)

var headerStatusText = [...]string{
	headerOK:          "ok",
	headerNoSync:      "no frame sync",
	headerBadVersion:  "reserved version",
	headerBadLayer:    "reserved layer",
	headerFreeFormat:  "free-format bitrate",
	headerBadBitrate:  "reserved bitrate index",
	headerBadRate:     "reserved sample rate",
	headerBadEmphasis: "reserved emphasis",
}

// ParseHeader parses the frame header in the first 4 bytes of b. It rejects
// free format (bitrate index 0, ErrFreeFormat) and every reserved value
// (ErrInvalidHeader): a player cannot size such a frame, and a false sync
// in random data usually trips one of them.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 4 {
		return Header{}, fmt.Errorf("mp3: header needs 4 bytes, have %d: %w", len(b), ErrInvalidHeader)
	}
	h, st := parseHeader(b)
	switch st {
	case headerOK:
		return h, nil
	case headerFreeFormat:
		return Header{}, fmt.Errorf("mp3: header %02x%02x%02x%02x: %w", b[0], b[1], b[2], b[3], ErrFreeFormat)
	default:
		return Header{}, fmt.Errorf("mp3: header %02x%02x%02x%02x: %s: %w",
			b[0], b[1], b[2], b[3], headerStatusText[st], ErrInvalidHeader)
	}
}

// parseHeader is ParseHeader without the error value; b has 4 bytes at
// least.
func parseHeader(b []byte) (Header, headerStatus) {
	_ = b[3]
	if b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return Header{}, headerNoSync
	}
	var h Header
	switch (b[1] >> 3) & 3 {
	case 0:
		h.Version = MPEG25
	case 2:
		h.Version = MPEG2
	case 3:
		h.Version = MPEG1
	default:
		return Header{}, headerBadVersion
	}
	switch (b[1] >> 1) & 3 {
	case 1:
		h.Layer = 3
	case 2:
		h.Layer = 2
	case 3:
		h.Layer = 1
	default:
		return Header{}, headerBadLayer
	}
	h.Protected = b[1]&1 == 0

	bi := int(b[2] >> 4)
	var kbps int
	switch {
	case h.Version == MPEG1 && h.Layer == 1:
		kbps = bitratesV1L1[bi]
	case h.Version == MPEG1 && h.Layer == 2:
		kbps = bitratesV1L2[bi]
	case h.Version == MPEG1:
		kbps = bitratesV1L3[bi]
	case h.Layer == 1:
		kbps = bitratesV2L1[bi]
	default:
		kbps = bitratesV2L23[bi]
	}
	switch {
	case kbps == 0:
		return Header{}, headerFreeFormat
	case kbps < 0:
		return Header{}, headerBadBitrate
	}
	h.Bitrate = kbps * 1000

	ri := int(b[2]>>2) & 3
	if ri == 3 {
		return Header{}, headerBadRate
	}
	switch h.Version {
	case MPEG1:
		h.SampleRate = rates1[ri]
	case MPEG2:
		h.SampleRate = rates2[ri]
	default:
		h.SampleRate = rates25[ri]
	}
	if b[3]&3 == 2 {
		return Header{}, headerBadEmphasis
	}

	h.Padding = b[2]&2 != 0
	h.ChannelMode = ChannelMode(b[3] >> 6)
	h.Channels = 2
	if h.ChannelMode == Mono {
		h.Channels = 1
	}

	pad := 0
	if h.Padding {
		pad = 1
	}
	switch {
	case h.Layer == 1:
		h.Samples = 384
		h.FrameSize = (12*h.Bitrate/h.SampleRate + pad) * 4
	case h.Layer == 2 || h.Version == MPEG1:
		h.Samples = 1152
		h.FrameSize = 144*h.Bitrate/h.SampleRate + pad
	default: // Layer III, MPEG-2 and 2.5: half the samples per frame.
		h.Samples = 576
		h.FrameSize = 72*h.Bitrate/h.SampleRate + pad
	}
	return h, headerOK
}
