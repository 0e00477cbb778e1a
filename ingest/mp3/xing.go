package mp3

import "encoding/binary"

// Where the VBR header frames keep their data. Encoders (LAME, Xing, FhG)
// write such a frame first: a valid layer III frame of silence whose
// payload describes the file instead of holding audio.
const (
	vbriOffset     = 4 + 32 // VBRI always follows a 32-byte side info
	vbriFramesAt   = 14     // "VBRI", version, delay, quality, bytes
	xingFlagFrames = 1      // the frame count field is present
)

// readInfo reports whether f is a Xing, Info or VBRI header frame, and
// records what the first such frame of the stream declares. Such a frame
// belongs first in a file (first is true for the first frame of the stream
// or after a tag), but concatenated files carry one mid-stream too; there,
// where a false match would drop audio, it must also have the all-zero
// side information encoders write in it.
func (s *Scanner) readInfo(f Frame, first bool) bool {
	if f.Layer != 3 {
		return false
	}
	d := f.Data
	side := f.SideInfoSize()
	off := 4 + side
	if f.Protected {
		off += 2
	}
	if !first && (off > len(d) || !allZero(d[off-side:off])) {
		return false
	}
	if off+8 <= len(d) {
		switch string(d[off : off+4]) {
		case "Xing", "Info":
			if s.info {
				return true
			}
			s.info = true
			flags := binary.BigEndian.Uint32(d[off+4:])
			if flags&xingFlagFrames != 0 && off+12 <= len(d) {
				s.xingFrames = int(binary.BigEndian.Uint32(d[off+8:]) & 0x7FFFFFFF)
				s.xingHas = true
			}
			return true
		}
	}
	if vbriOffset+vbriFramesAt+4 <= len(d) && string(d[vbriOffset:vbriOffset+4]) == "VBRI" {
		if s.info {
			return true
		}
		s.info = true
		at := vbriOffset + vbriFramesAt
		s.xingFrames = int(binary.BigEndian.Uint32(d[at:]) & 0x7FFFFFFF)
		s.xingHas = true
		return true
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
