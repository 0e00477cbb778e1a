package icy

import (
	"errors"
	"fmt"
	"io"
)

// Meta is one metadata block as a Reader met it.
type Meta struct {
	// Offset is the number of audio bytes before the block: the offset of
	// the audio byte the block describes.
	Offset int64
	// Title is the StreamTitle in effect from Offset on: the parsed title of
	// a full block, the previous title for the one-byte "unchanged" block.
	Title string
	// Full is true for a block with content, false for the one-byte block.
	Full bool
}

// Reader is the listener side of ICY framing, for tests and the load tool:
// it strips metadata blocks from a stream that was requested with
// "Icy-MetaData: 1", returns only audio from Read, and reports every block.
// It is strict on purpose, since it checks onair's own output: a stream that
// ends inside a block gives ErrTruncated and a full block without a
// StreamTitle gives ErrMalformed. Errors are sticky. The Reader reads the
// length byte on its own, so wrap a network stream in a bufio.Reader.
type Reader struct {
	r       io.Reader
	metaint int
	left    int   // audio bytes before the next block
	off     int64 // audio bytes returned so far
	title   string
	onMeta  func(Meta)
	err     error
	buf     [MaxBlockLen]byte
}

// NewReader returns a Reader of r, whose server announced
// "icy-metaint: metaint" (<= 0: no metadata, audio is passed through).
// onMeta, if not nil, is called for each block, full or not, from Read.
func NewReader(r io.Reader, metaint int, onMeta func(Meta)) *Reader {
	if metaint < 0 {
		metaint = 0
	}
	return &Reader{r: r, metaint: metaint, left: metaint, onMeta: onMeta}
}

// Title returns the last StreamTitle read ("" before the first full block).
func (r *Reader) Title() string { return r.title }

// Offset returns the number of audio bytes returned so far.
func (r *Reader) Offset() int64 { return r.off }

// Read reads audio into p. A single Read never crosses a metadata block;
// the block is consumed by the next Read. The stream may end (io.EOF)
// anywhere in audio, including exactly before a block.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.metaint > 0 {
		if r.left == 0 {
			if err := r.readBlock(); err != nil {
				r.err = err
				return 0, err
			}
			r.left = r.metaint
		}
		if len(p) > r.left {
			p = p[:r.left]
		}
	}
	n, err := r.r.Read(p)
	if n < 0 || n > len(p) {
		r.err = fmt.Errorf("icy: underlying reader returned %d for %d bytes", n, len(p))
		return 0, r.err
	}
	r.off += int64(n)
	if r.metaint > 0 {
		r.left -= n
	}
	if err != nil {
		r.err = err
	}
	return n, err
}

// readBlock consumes one block at a boundary and reports it.
func (r *Reader) readBlock() error {
	if _, err := io.ReadFull(r.r, r.buf[:1]); err != nil {
		// io.EOF here is a clean end: the stream stopped at a boundary.
		return err
	}
	size := 1 + 16*int(r.buf[0])
	if _, err := io.ReadFull(r.r, r.buf[1:size]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("icy: block at audio offset %d: %w", r.off, ErrTruncated)
		}
		return fmt.Errorf("icy: block at audio offset %d: %w", r.off, err)
	}
	m := Meta{Offset: r.off, Title: r.title}
	if size > 1 {
		t, ok := ParseStreamTitle(r.buf[:size])
		if !ok {
			return fmt.Errorf("icy: block at audio offset %d: %w", r.off, ErrMalformed)
		}
		r.title, m.Title, m.Full = t, t, true
	}
	if r.onMeta != nil {
		r.onMeta(m)
	}
	return nil
}
