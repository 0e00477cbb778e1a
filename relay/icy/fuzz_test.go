package icy

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzFramer drives a Framer with a script of (length, title, chunk) triples
// and checks that a Reader recovers the same audio and announces the title of
// the byte after each boundary, in full exactly when it changed.
func FuzzFramer(f *testing.F) {
	f.Add(uint8(4), []byte{10, 0, 3, 10, 1, 1, 7, 2, 255})
	f.Add(uint8(0), []byte{5, 1, 1})
	f.Add(uint8(1), []byte{3, 3, 0, 0, 4, 2, 2, 5, 9})
	titles := []string{"", "A - B", "Sigur Rós", "x'; y", strings.Repeat("é", 3000), "\x00bad\xff", "A - B"}
	blocks := make([][]byte, len(titles))
	parsed := make([]string, len(titles))
	for i, s := range titles {
		blocks[i] = Block(s)
		parsed[i], _ = ParseStreamTitle(blocks[i])
	}
	f.Fuzz(func(t *testing.T, metaint uint8, script []byte) {
		mi := int(metaint % 40)
		fr := NewFramer(mi)
		var bufs [][]byte
		var audio []byte
		var titleAt []string
		var segs []seg
		for ; len(script) >= 3; script = script[3:] {
			n, ti, chunk := int(script[0]), int(script[1])%len(titles), 1+int(script[2])
			piece := pattern(len(audio) + n)[len(audio):]
			segs = append(segs, seg{n, blocks[ti]})
			for p := 0; p < n; p += chunk {
				bufs = fr.Append(bufs, piece[p:min(p+chunk, n)], blocks[ti])
			}
			audio = append(audio, piece...)
			for range n {
				titleAt = append(titleAt, parsed[ti])
			}
		}
		stream := flatten(bufs)
		if want := reference(mi, audio, segs); !bytes.Equal(stream, want) {
			t.Fatal("Framer output differs from reference")
		}
		checkStream(t, mi, stream, audio, titleAt, nil)
	})
}

// FuzzReader feeds arbitrary bytes to a Reader: it must never panic, never
// return more audio than it was given, and report blocks at boundaries.
func FuzzReader(f *testing.F) {
	f.Add(uint8(4), []byte("abcd\x01StreamTitle='x';\x00\x00\x00efgh\x00ij"))
	f.Add(uint8(2), []byte("ab\xffcd"))
	f.Add(uint8(1), []byte("a\x00b\x01"))
	f.Fuzz(func(t *testing.T, metaint uint8, data []byte) {
		mi := int(metaint % 64)
		last := int64(0)
		r := NewReader(bytes.NewReader(data), mi, func(m Meta) {
			if mi == 0 || m.Offset != last+int64(mi) {
				t.Fatalf("block reported at audio offset %d after %d (metaint %d)", m.Offset, last, mi)
			}
			last = m.Offset
		})
		got, err := io.ReadAll(r)
		if len(got) > len(data) || r.Offset() != int64(len(got)) {
			t.Fatalf("read %d audio bytes from %d bytes, offset %d", len(got), len(data), r.Offset())
		}
		if mi == 0 && (err != nil || !bytes.Equal(got, data)) {
			t.Fatalf("without metadata: got %d bytes, err %v", len(got), err)
		}
		ParseStreamTitle(data) // must not panic on arbitrary input
	})
}

// FuzzBlock checks that any title gives a well-formed block that parses
// back to the cleaned title, cut to fit.
func FuzzBlock(f *testing.F) {
	f.Add("Artist - Title")
	f.Add("';';'")
	f.Add(";\x00\xff")
	f.Add(strings.Repeat("🎵", 1100))
	f.Fuzz(func(t *testing.T, title string) {
		b := Block(title)
		checkBlockShape(t, b)
		got, ok := ParseStreamTitle(b)
		want := truncateUTF8(cleanTitle(title), MaxTitleLen)
		if !ok || got != want {
			t.Fatalf("ParseStreamTitle(Block(%q)) = %q, %v; want %q", title, got, ok, want)
		}
	})
}
