package mp3dec

import "encoding/binary"

// bitReader reads big-endian bit fields from buf. buf must have at least 8
// readable bytes past any position read (the decoder pads its buffers with
// zeros), so peek never checks the length.
type bitReader struct {
	buf []byte
	pos int // in bits
}

// peek returns the next n bits (1 <= n <= 32) without consuming them.
func (r *bitReader) peek(n int) uint32 {
	v := binary.BigEndian.Uint64(r.buf[r.pos>>3:])
	return uint32((v << uint(r.pos&7)) >> uint(64-n))
}

// read consumes n bits (0 <= n <= 32).
func (r *bitReader) read(n int) int {
	if n == 0 {
		return 0
	}
	v := r.peek(n)
	r.pos += n
	return int(v)
}

func (r *bitReader) flag() bool { return r.read(1) != 0 }
