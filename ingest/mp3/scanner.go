// Package mp3 finds, checks and measures the frames of MPEG audio streams,
// so the server can accept only files it can play and send their frames on
// unchanged. Standard library only.
package mp3

import (
	"errors"
	"fmt"
	"io"
)

// bufSize holds the largest frame (2881 bytes: MPEG-2.5 layer II at
// 160 kbit/s and 8 kHz) with its lookahead many times over, so reads are
// large and compaction rare.
const bufSize = 32 << 10

// lookahead is how much past a frame confirm looks at.
const lookahead = apeItemMin

// maxEmptyReads stops a reader that keeps returning 0, nil, as bufio does.
const maxEmptyReads = 100

// Frame is one MPEG audio frame as it is in the stream.
type Frame struct {
	Header
	// Data is the whole frame, header included. It points into the
	// Scanner's buffer and is valid only until the next call to Next or
	// Reset: copy it to keep it.
	Data []byte
	// Offset is the position of the frame's first byte in the stream.
	Offset int64
}

// Scanner reads the frames of an MPEG audio stream one at a time, skipping
// tags and junk. It reuses one buffer for every frame and every stream it
// is Reset to, so playout can read track after track without allocating.
//
// A frame is accepted only when its header is valid and a second header of
// the same format follows at the computed frame size (or a tag, or the end
// of the stream): a single valid-looking header in random data is common,
// two in a row are not.
//
// The zero Scanner is usable after Reset.
type Scanner struct {
	r          io.Reader
	buf        []byte
	start, end int   // unread data is buf[start:end]
	base       int64 // stream offset of buf[0]
	err        error // sticky read error, io.EOF included
	emptyReads int

	synced bool   // the previous frame was accepted
	clean  bool   // nothing skipped since the last frame or tag
	last   Header // format of the previous frame
	done   bool   // stopped at a trailer that ends the audio

	began       bool // the first position after leading tags was looked at
	headerStart bool // ... and held a frame header
	freeFormat  bool // ... and that header was free format
	tagged      bool // an ID3v2 tag was seen
	seenFirst   bool // a frame was seen since the start or the last tag
	info        bool
	xingFrames  int
	xingHas     bool
	frames      int64
	skipped     int64
	truncated   bool
}

// NewScanner returns a Scanner reading r.
func NewScanner(r io.Reader) *Scanner {
	s := &Scanner{}
	s.Reset(r)
	return s
}

// Reset makes s read r from its start, forgetting everything about the
// previous stream but keeping its buffer.
func (s *Scanner) Reset(r io.Reader) {
	buf := s.buf
	if buf == nil {
		buf = make([]byte, bufSize)
	}
	*s = Scanner{r: r, buf: buf, clean: true}
}

// InfoFrame reports whether the first frame was a Xing, Info or VBRI header
// frame. Next does not return it: it holds no audio, and decoders would
// play it as a frame of silence.
func (s *Scanner) InfoFrame() bool { return s.info }

// XingFrames returns the number of audio frames the Xing or VBRI header
// declares, and whether it declared one.
func (s *Scanner) XingFrames() (int, bool) { return s.xingFrames, s.xingHas }

// Skipped returns the number of junk bytes skipped so far: bytes between
// frames that are neither a frame nor a known tag, and the bytes of a
// truncated final frame.
func (s *Scanner) Skipped() int64 { return s.skipped }

// Truncated reports whether the stream ended inside a frame.
func (s *Scanner) Truncated() bool { return s.truncated }

// Frames returns the number of audio frames Next has returned.
func (s *Scanner) Frames() int64 { return s.frames }

// Next returns the next audio frame, or io.EOF at the end of the audio
// (which may come before the end of the stream, at a trailing tag). A
// truncated final frame ends the stream too: it is counted in Skipped and
// Truncated, not returned.
func (s *Scanner) Next() (Frame, error) {
	for {
		if s.done {
			return Frame{}, io.EOF
		}
		if !s.fill(4) {
			return Frame{}, s.stop()
		}
		c := s.buf[s.start]
		if c != 0xFF {
			if isTagByte[c] {
				if handled, err := s.skipTag(); err != nil {
					return Frame{}, err
				} else if handled {
					continue
				}
			}
			s.markBegin(headerNoSync)
			s.skipJunk()
			continue
		}
		h, st := parseHeader(s.buf[s.start:s.end])
		s.markBegin(st)
		if st != headerOK {
			s.skipJunk()
			continue
		}
		if s.synced && !h.SameFormat(s.last) {
			s.synced = false
		}
		f, ok, err := s.frameAt(h)
		if err != nil {
			return Frame{}, err
		}
		if !ok {
			if s.synced && s.atEOF() && s.end-s.start < h.FrameSize {
				// A trusted frame cut short by the end of the stream.
				s.truncated = true
				s.skipped += int64(s.end - s.start)
				s.start = s.end
				return Frame{}, io.EOF
			}
			s.skipJunk()
			continue
		}
		s.start += h.FrameSize
		s.synced, s.clean, s.last = true, true, h
		first := !s.seenFirst
		s.seenFirst = true
		if s.readInfo(f, first) {
			continue
		}
		s.frames++
		return f, nil
	}
}

// frameAt checks the frame whose header h is at buf[start]. ok is false
// when it is not a frame, or cannot be completed before the end of the
// stream.
func (s *Scanner) frameAt(h Header) (f Frame, ok bool, err error) {
	if !s.fill(h.FrameSize+lookahead) && !s.atEOF() {
		return Frame{}, false, s.readErr()
	}
	if s.end-s.start < h.FrameSize || !s.confirm(h) {
		return Frame{}, false, nil
	}
	f = Frame{Header: h, Data: s.buf[s.start : s.start+h.FrameSize : s.start+h.FrameSize], Offset: s.pos()}
	return f, true, nil
}

// confirm reports whether what follows the frame with header h at
// buf[start] is what follows a real frame: another header of the same
// format, a tag, or the end of the stream.
//
// Every frame must pass, also in the middle of a clean stream. A header
// where the previous frame ends is usually a frame, but when it is not (a
// stream cut and spliced, a partial frame) the bytes are garbage that
// listeners' decoders would choke on; the price is the last real frame
// before junk, which is skipped with it.
//
// The end of the stream confirms only a frame that no junk came before,
// or the last bytes of any noisy file could pass for a frame.
func (s *Scanner) confirm(h Header) bool {
	rest := s.buf[s.start+h.FrameSize : s.end]
	if len(rest) < 4 {
		return s.atEOF() && (s.synced || s.clean)
	}
	if tagStarts(rest) || (s.synced && apeItemStarts(rest)) {
		return true
	}
	n, st := parseHeader(rest)
	return st == headerOK && n.SameFormat(h)
}

// markBegin records what the first position after the leading tags holds:
// Probe tells a damaged MP3 from a file that is no MP3 at all by it.
func (s *Scanner) markBegin(st headerStatus) {
	if s.began {
		return
	}
	s.began = true
	s.headerStart = st == headerOK || st == headerFreeFormat
	s.freeFormat = st == headerFreeFormat
}

// isTagByte marks the first bytes of the tags the scanner knows.
var isTagByte = [256]bool{'I': true, 'T': true, 'A': true, 'L': true}

// skipJunk skips the byte at start and every following buffered byte that
// cannot begin a frame or a tag, counting them.
func (s *Scanner) skipJunk() {
	s.synced, s.clean = false, false
	i := s.start + 1
	for i < s.end && s.buf[i] != 0xFF && !isTagByte[s.buf[i]] {
		i++
	}
	s.skipped += int64(i - s.start)
	s.start = i
}

// pos is the stream offset of buf[start].
func (s *Scanner) pos() int64 { return s.base + int64(s.start) }

// fill makes at least n (<= len(buf)) bytes available at buf[start:],
// reading as much as fits. It returns false when the stream ends or fails
// first; s.err says which.
func (s *Scanner) fill(n int) bool {
	for s.end-s.start < n {
		if s.err != nil {
			return false
		}
		if s.r == nil {
			s.err = io.EOF
			return false
		}
		if s.start+n > len(s.buf) {
			copy(s.buf, s.buf[s.start:s.end])
			s.base += int64(s.start)
			s.end -= s.start
			s.start = 0
		}
		m, err := s.r.Read(s.buf[s.end:])
		if m < 0 || m > len(s.buf)-s.end {
			s.err = errBadRead
			return false
		}
		s.end += m
		switch {
		case err != nil:
			s.err = err
		case m == 0:
			s.emptyReads++
			if s.emptyReads >= maxEmptyReads {
				s.err = io.ErrNoProgress
			}
		default:
			s.emptyReads = 0
		}
	}
	return true
}

var errBadRead = errors.New("reader returned an invalid count")

// discard skips n bytes of the stream. It returns false when the stream
// ends (or fails) first.
func (s *Scanner) discard(n int64) bool {
	for {
		avail := int64(s.end - s.start)
		if n <= avail {
			s.start += int(n)
			return true
		}
		n -= avail
		s.base += int64(s.end)
		s.start, s.end = 0, 0
		if !s.fill(1) {
			return false
		}
	}
}

// readErr wraps a read error other than io.EOF.
func (s *Scanner) readErr() error {
	return fmt.Errorf("mp3: read at offset %d: %w", s.base+int64(s.end), s.err)
}

// stop ends the scan when fewer than 4 bytes are left.
func (s *Scanner) stop() error {
	if !s.atEOF() {
		return s.readErr()
	}
	s.skipped += int64(s.end - s.start)
	s.start = s.end
	return io.EOF
}

// atEOF reports whether the stream has ended (rather than failed).
func (s *Scanner) atEOF() bool { return errors.Is(s.err, io.EOF) }
