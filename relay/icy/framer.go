package icy

import "bytes"

// Framer keeps one listener's position in the ICY framing: how many audio
// bytes remain before the next metadata block, and which block the listener
// got last. It never copies audio: Append adds sub-slices of the caller's
// shared audio and shared blocks to a net.Buffers-style slice, so one copy of
// a station's audio serves every listener. The zero Framer passes audio
// through without metadata. A Framer belongs to one listener's writer and is
// not safe for concurrent use.
type Framer struct {
	metaint int    // audio bytes between blocks; <= 0 means no metadata
	left    int    // audio bytes before the next block is due
	last    []byte // the last full block sent; nil before the first
}

// NewFramer returns a Framer for a listener that was promised
// "icy-metaint: metaint". metaint <= 0 means the listener asked for no
// metadata: audio passes through untouched.
func NewFramer(metaint int) *Framer {
	if metaint < 0 {
		metaint = 0
	}
	return &Framer{metaint: metaint, left: metaint}
}

// Metaint returns the interval given to NewFramer (0 for no metadata).
func (f *Framer) Metaint() int { return f.metaint }

// Append appends audio to bufs, inserting a metadata block after every
// metaint audio bytes, and returns the extended bufs. Neither audio nor block
// is copied; both must stay unmodified until bufs has been written.
//
// block is the encoded block (see Block) for the title of this audio; callers
// split audio where the title changes. A block is due once metaint bytes have
// been sent but is only inserted when the next audio byte is appended, by the
// call that carries that byte. So a block always describes the byte that
// follows it: a title starting exactly on a boundary is announced at that
// boundary, never one interval late, and the old title is never announced
// over the new title's audio.
//
// The block goes in full when it differs from the last full block this
// listener got (the first one always does), else Empty goes in. Blocks are
// compared by identity first (the usual case: the station shares one block
// per title) and then by content, so a block rebuilt for the same title is
// not resent. A nil, malformed or empty (length 0) block inserts Empty: it
// never breaks the framing and keeps the listener's last title.
//
// Audio sub-slices are appended with their capacity cut to their length, so
// a consumer that appends to an element cannot overwrite shared audio.
// Append allocates only when bufs needs to grow.
func (f *Framer) Append(bufs [][]byte, audio []byte, block []byte) [][]byte {
	if f.metaint <= 0 {
		if len(audio) > 0 {
			bufs = append(bufs, audio[:len(audio):len(audio)])
		}
		return bufs
	}
	for len(audio) > 0 {
		if f.left == 0 {
			bufs = append(bufs, f.pick(block))
			f.left = f.metaint
		}
		n := min(f.left, len(audio))
		bufs = append(bufs, audio[:n:n])
		audio = audio[n:]
		f.left -= n
	}
	return bufs
}

// pick returns what goes at a boundary: block in full if it is new to this
// listener, else the shared Empty block.
func (f *Framer) pick(block []byte) []byte {
	if !wellFormed(block) || block[0] == 0 {
		return empty
	}
	if f.last != nil && (sameSlice(block, f.last) || bytes.Equal(block, f.last)) {
		return empty
	}
	f.last = block
	return block[:len(block):len(block)]
}

// sameSlice reports whether a and b are the same bytes in memory.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
