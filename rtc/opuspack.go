package rtc

import "time"

// opusPacker packs consecutive Opus packets of one frame each into one
// packet of several frames (RFC 6716 §3.2.5, code 3), up to a packet
// length. A listener's cost is mostly per packet (its SRTP seal, its
// datagram, the kernel's send), so three 20 ms frames in one 60 ms packet
// serve a listener for about a third of the cost, for 40 ms more delay
// that a radio stream does not notice. Browsers take packets up to
// 120 ms (RFC 7587's default maxptime).
//
// Only packets that can be joined are: each must hold one frame (code 0)
// and all must share their TOC's configuration and channel flag, as the
// RFC requires. Anything else flushes what is pending and goes alone.
type opusPacker struct {
	max time.Duration // the packet length to reach; <= one frame: no packing

	frames [maxPackedFrames][]byte // pending frames, without their TOC
	n      int
	toc    byte // of the pending frames, code bits cleared
	dur    time.Duration
	store  []byte // backing for frames: the caller's buffers are reused
	out    []byte // the packet made by flush
}

// maxPackedFrames bounds a code 3 packet: 120 ms of 2.5 ms frames is 48,
// the RFC's limit; 20 ms frames in 120 ms are 6.
const maxPackedFrames = 48

// add takes one Opus packet of duration dur and calls emit for each packet
// that is ready: none, the pending ones flushed, and/or this one.
func (p *opusPacker) add(pkt []byte, dur time.Duration, emit func([]byte, time.Duration)) {
	if p.max <= dur || len(pkt) < 1 {
		p.flush(emit)
		emit(pkt, dur)
		return
	}
	toc := pkt[0]
	if toc&3 != 0 {
		// Already several frames (or padded): not joined.
		p.flush(emit)
		emit(pkt, dur)
		return
	}
	if p.n > 0 && (toc != p.toc || p.dur+dur > p.max || p.n == maxPackedFrames) {
		p.flush(emit)
	}
	if p.n == 0 {
		p.toc, p.store = toc, p.store[:0]
	}
	start := len(p.store)
	p.store = append(p.store, pkt[1:]...)
	p.frames[p.n] = p.store[start:len(p.store):len(p.store)]
	p.n++
	p.dur += dur
	if p.dur >= p.max {
		p.flush(emit)
	}
}

// flush emits what is pending: a lone frame as it came, several as one
// code 3 packet with their lengths (VBR).
func (p *opusPacker) flush(emit func([]byte, time.Duration)) {
	if p.n == 0 {
		return
	}
	out := append(p.out[:0], p.toc)
	if p.n > 1 {
		out[0] |= 3
		out = append(out, 0x80|byte(p.n)) // VBR, no padding, n frames
		for _, f := range p.frames[:p.n-1] {
			out = appendFrameLength(out, len(f))
		}
	}
	for _, f := range p.frames[:p.n] {
		out = append(out, f...)
	}
	p.out = out
	dur := p.dur
	p.n, p.dur = 0, 0
	emit(out, dur)
}

// reset forgets pending frames (the stream restarts elsewhere).
func (p *opusPacker) reset() { p.n, p.dur = 0, 0 }

// appendFrameLength writes an Opus frame length as RFC 6716 §3.2.1 does:
// one byte below 252, else two (252 + len%4, then len/4 - 63).
func appendFrameLength(b []byte, n int) []byte {
	if n < 252 {
		return append(b, byte(n))
	}
	first := 252 + n&3
	return append(b, byte(first), byte((n-first)>>2))
}
