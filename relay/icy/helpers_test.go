package icy

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// seg is a run of audio bytes sharing one block.
type seg struct {
	n     int
	block []byte
}

// pattern returns n audio bytes that differ from their neighbours, so a
// misplaced or duplicated byte shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// flatten joins bufs as writev would send them.
func flatten(bufs [][]byte) []byte {
	var out []byte
	for _, b := range bufs {
		out = append(out, b...)
	}
	return out
}

// frame feeds audio, split into segs, through a new Framer; each segment is
// further cut into chunks of the sizes chunk returns (cycled, >= 1).
func frame(metaint int, audio []byte, segs []seg, chunk func() int) [][]byte {
	f := NewFramer(metaint)
	var bufs [][]byte
	pos := 0
	for _, s := range segs {
		end := pos + s.n
		for pos < end {
			n := min(chunk(), end-pos)
			bufs = f.Append(bufs, audio[pos:pos+n], s.block)
			pos += n
		}
		bufs = f.Append(bufs, audio[pos:pos], s.block) // empty calls change nothing
	}
	return bufs
}

// reference builds the expected bytes of an ICY stream the slow, obvious
// way, byte by byte, independently of Framer.
func reference(metaint int, audio []byte, segs []seg) []byte {
	blockAt := make([][]byte, 0, len(audio))
	for _, s := range segs {
		for range s.n {
			blockAt = append(blockAt, s.block)
		}
	}
	var out, last []byte
	for i, c := range audio {
		if metaint > 0 && i > 0 && i%metaint == 0 {
			b := blockAt[i]
			if wellFormed(b) && b[0] > 0 && (last == nil || !bytes.Equal(b, last)) {
				out = append(out, b...)
				last = b
			} else {
				out = append(out, 0)
			}
		}
		out = append(out, c)
	}
	return out
}

// rawBlock is a block found by walkStream.
type rawBlock struct {
	off   int
	block []byte
}

// walkStream splits an ICY stream into audio and blocks without using
// Reader, so Framer tests do not depend on it.
func walkStream(t *testing.T, metaint int, stream []byte) (audio []byte, blocks []rawBlock) {
	t.Helper()
	for len(stream) > 0 {
		if metaint > 0 && len(audio) > 0 && len(audio)%metaint == 0 &&
			(len(blocks) == 0 || blocks[len(blocks)-1].off != len(audio)) {
			size := 1 + 16*int(stream[0])
			if size > len(stream) {
				t.Fatalf("block at %d: %d bytes, only %d left", len(audio), size, len(stream))
			}
			blocks = append(blocks, rawBlock{len(audio), stream[:size]})
			stream = stream[size:]
			continue
		}
		audio = append(audio, stream[0])
		stream = stream[1:]
	}
	return audio, blocks
}

// randReader returns its data in reads of random sizes (1 to 40 bytes).
type randReader struct {
	data []byte
	rnd  *rand.Rand
}

func (r *randReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), 1+r.rnd.IntN(40))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// checkStream reads stream with a Reader and checks that it yields audio and,
// at every boundary, one block announcing titleAt[offset] in full exactly
// when it differs from the previous announced title (the first always).
func checkStream(t *testing.T, metaint int, stream, audio []byte, titleAt []string, src io.Reader) {
	t.Helper()
	if src == nil {
		src = bytes.NewReader(stream)
	}
	var metas []Meta
	r := NewReader(src, metaint, func(m Meta) { metas = append(metas, m) })
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if !bytes.Equal(got, audio) {
		t.Fatalf("audio differs: got %d bytes, want %d", len(got), len(audio))
	}
	var want []Meta
	announced, have := "", false
	for off := metaint; metaint > 0 && off < len(audio); off += metaint {
		title := titleAt[off]
		full := !have || title != announced
		if full {
			announced, have = title, true
		}
		want = append(want, Meta{Offset: int64(off), Title: title, Full: full})
	}
	if len(metas) != len(want) {
		t.Fatalf("got %d blocks, want %d:\ngot  %+v\nwant %+v", len(metas), len(want), metas, want)
	}
	for i := range want {
		if metas[i] != want[i] {
			t.Fatalf("block %d: got %+v, want %+v", i, metas[i], want[i])
		}
	}
}
