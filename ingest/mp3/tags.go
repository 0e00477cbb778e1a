package mp3

import "encoding/binary"

// Tag layouts the scanner steps over. It reads none of their contents:
// ingest reads titles with a tag library; the scanner only needs to know
// where audio is.
const (
	id3v2HeaderLen = 10  // "ID3", version, flags, synchsafe size
	id3v2FooterLen = 10  // "3DI" copy of the header, when flag 0x10 is set
	id3v1Len       = 128 // "TAG" + fixed fields
	apeHeaderLen   = 32  // "APETAGEX" header or footer
	apeIsHeader    = 1 << 29
)

// skipTag steps over the tag that starts at buf[start], if one does. A
// tag is not junk: its bytes are not counted in Skipped. After a tag the
// next frame must prove its sync again.
func (s *Scanner) skipTag() (handled bool, err error) {
	var size int64
	switch s.buf[s.start] {
	case 'I':
		if !s.fill(id3v2HeaderLen) {
			return false, s.softErr()
		}
		n, ok := id3v2Size(s.buf[s.start:s.end])
		if !ok {
			return false, nil
		}
		s.tagged = true
		size = n
	case 'T':
		if !s.fill(id3v1Len) {
			return false, s.softErr()
		}
		if string(s.buf[s.start:s.start+3]) != "TAG" {
			return false, nil
		}
		size = id3v1Len
	case 'A':
		if !s.fill(apeHeaderLen) {
			return false, s.softErr()
		}
		b := s.buf[s.start : s.start+apeHeaderLen]
		if string(b[:8]) != "APETAGEX" {
			return false, nil
		}
		// The size counts the items and the footer, not the header: a
		// header is followed by all of it, a footer ends the tag.
		size = apeHeaderLen
		if binary.LittleEndian.Uint32(b[20:24])&apeIsHeader != 0 {
			size += int64(binary.LittleEndian.Uint32(b[12:16]))
		}
	case 'L':
		if !s.fill(11) {
			return false, s.softErr()
		}
		if string(s.buf[s.start:s.start+11]) != "LYRICSBEGIN" {
			return false, nil
		}
		// Lyrics3 has its size only at its end and is written only at
		// the very end of a file, before an ID3v1 tag: the audio is over.
		s.done = true
		return true, nil
	default:
		return false, nil
	}
	// A tag mid-stream most often starts another file (concatenated
	// MP3s): its first frame may be a Xing frame again.
	s.synced, s.clean, s.seenFirst = false, true, false
	if !s.discard(size) {
		return true, s.softErr()
	}
	return true, nil
}

// softErr returns the read error, except io.EOF: at the end of the stream
// a tag that does not fit is junk (or the end), not a failure.
func (s *Scanner) softErr() error {
	if s.err == nil || s.atEOF() {
		return nil
	}
	return s.readErr()
}

// id3v2Size returns the full length of the ID3v2 tag whose header starts b
// (at least 10 bytes), footer included.
func id3v2Size(b []byte) (int64, bool) {
	if string(b[:3]) != "ID3" || b[3] < 2 || b[3] > 4 || b[4] == 0xFF {
		return 0, false
	}
	var n int64
	for _, c := range b[6:10] {
		if c&0x80 != 0 {
			return 0, false
		}
		n = n<<7 | int64(c)
	}
	n += id3v2HeaderLen
	if b[5]&0x10 != 0 {
		n += id3v2FooterLen
	}
	return n, true
}

// apeItemMin is the start of an APE item that apeItemStarts checks: value
// size, flags and two key characters.
const apeItemMin = 10

// apeItemStarts reports whether b starts like an APE tag item. An APE tag
// written without its header (APEv1, some APEv2 writers) begins with its
// items, and only its footer says "APETAGEX": the last frame before such a
// tag is confirmed by its first item.
func apeItemStarts(b []byte) bool {
	if len(b) < apeItemMin {
		return false
	}
	size := binary.LittleEndian.Uint32(b[0:4])
	flags := binary.LittleEndian.Uint32(b[4:8])
	return size < 1<<24 && flags <= 7 && isKeyByte(b[8]) && isKeyByte(b[9])
}

func isKeyByte(c byte) bool { return c >= 0x20 && c <= 0x7E }

// tagStarts reports whether b (at least 4 bytes) looks like the start of
// a tag the scanner knows; it confirms the frame before it.
func tagStarts(b []byte) bool {
	switch string(b[:3]) {
	case "ID3", "TAG":
		return true
	}
	switch string(b[:4]) {
	case "APET", "LYRI":
		return true
	}
	return false
}
