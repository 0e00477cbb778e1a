package cluster

import (
	"encoding/binary"
	"fmt"
)

// Media messages (a chunk or a packet every few milliseconds to seconds,
// per station and output) are framed in binary, not JSON: base64 would
// carry 4 bytes for every 3 of audio. The rest of the messages are JSON.
//
// chunk:  "oc" 1 | epoch sent seq at dur (5 × 8, big-endian) | flags (1:
//         head in data) | marks u16 × (off u32, len u16, block) |
//         head u32 + bytes | data (the rest)
// packet: "op" 1 | epoch sent at48 dur (4 × 8) | data (the rest)

const frameVersion = 1

func (m *chunkMsg) marshal() []byte {
	n := 3 + 40 + 1 + 2 + 4 + len(m.Head) + len(m.Data)
	for _, mk := range m.Marks {
		n += 6 + len(mk.Block)
	}
	b := make([]byte, 0, n)
	b = append(b, 'o', 'c', frameVersion)
	for _, v := range []uint64{uint64(m.Epoch), uint64(m.Sent), m.Seq, uint64(m.At), uint64(m.Dur)} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	var flags byte
	if m.HeadData {
		flags = 1
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Marks)))
	for _, mk := range m.Marks {
		b = binary.BigEndian.AppendUint32(b, uint32(mk.Off))
		b = binary.BigEndian.AppendUint16(b, uint16(len(mk.Block)))
		b = append(b, mk.Block...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Head)))
	b = append(b, m.Head...)
	return append(b, m.Data...)
}

// reader reads a frame, remembering the first overrun.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) magic(kind byte) bool {
	p := r.take(3)
	return p != nil && p[0] == 'o' && p[1] == kind && p[2] == frameVersion
}

// unmarshalChunk reads a chunk frame; its slices point into b. The caller
// still checks the chunk (chunkMsg.chunk).
func unmarshalChunk(b []byte) (chunkMsg, error) {
	r := &reader{b: b}
	var m chunkMsg
	if !r.magic('c') {
		return m, fmt.Errorf("%w: not a chunk frame", ErrBadMessage)
	}
	m.Epoch, m.Sent, m.Seq, m.At, m.Dur = int64(r.u64()), int64(r.u64()), r.u64(), int64(r.u64()), int64(r.u64())
	if f := r.take(1); f != nil {
		m.HeadData = f[0]&1 != 0
	}
	n := int(r.u16())
	if n > maxMarks {
		return m, fmt.Errorf("%w: %d marks", ErrBadMessage, n)
	}
	for range n {
		off := int(r.u32())
		m.Marks = append(m.Marks, markMsg{Off: off, Block: r.take(int(r.u16()))})
	}
	m.Head = r.take(int(r.u32()))
	if r.bad {
		return m, fmt.Errorf("%w: short chunk frame", ErrBadMessage)
	}
	m.Data = r.b
	return m, nil
}

func (m *packetMsg) marshal() []byte {
	b := make([]byte, 0, 3+32+len(m.Data))
	b = append(b, 'o', 'p', frameVersion)
	for _, v := range []int64{m.Epoch, m.Sent, m.At48, m.Dur} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return append(b, m.Data...)
}

func unmarshalPacket(b []byte) (packetMsg, error) {
	r := &reader{b: b}
	var m packetMsg
	if !r.magic('p') {
		return m, fmt.Errorf("%w: not a packet frame", ErrBadMessage)
	}
	m.Epoch, m.Sent, m.At48, m.Dur = int64(r.u64()), int64(r.u64()), int64(r.u64()), int64(r.u64())
	if r.bad {
		return m, fmt.Errorf("%w: short packet frame", ErrBadMessage)
	}
	m.Data = r.b
	return m, nil
}
