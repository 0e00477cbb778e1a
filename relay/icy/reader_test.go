package icy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

var randomTitles = []string{
	"", "Artist - Title", "Sigur Rós – Hoppípolla ♫", "Rock'; Roll", ";x", "a\x00b\nc",
	string(bytes.Repeat([]byte("🎵"), 1100)), "日本語のタイトル",
}

// TestReaderRoundTrip frames random audio with random title changes in
// random chunkings, reads it back in random read sizes, and checks that the
// audio is intact and each title is reported at the first boundary at or
// after its start (when that boundary falls inside it).
func TestReaderRoundTrip(t *testing.T) {
	for seed := range uint64(300) {
		rnd := rand.New(rand.NewPCG(seed, 42))
		metaint := 1 + rnd.IntN(60)
		if seed%10 == 0 {
			metaint = 0
		}
		audio := pattern(rnd.IntN(2000))
		var segs []seg
		titleAt := make([]string, 0, len(audio))
		type start struct {
			off   int
			title string
		}
		var starts []start
		for left, i := len(audio), 0; left > 0; i++ {
			n := min(left, rnd.IntN(3*metaint+5))
			// Each segment has a title of its own, so every start is a change.
			title := fmt.Sprintf("%d %s", i, randomTitles[rnd.IntN(len(randomTitles))])
			b := Block(title)
			parsed, _ := ParseStreamTitle(b)
			segs = append(segs, seg{n, b})
			if n > 0 {
				starts = append(starts, start{len(audio) - left, parsed})
			}
			for range n {
				titleAt = append(titleAt, parsed)
			}
			left -= n
		}
		stream := flatten(frame(metaint, audio, segs, func() int { return 1 + rnd.IntN(100) }))
		t.Run(fmt.Sprintf("seed=%d/metaint=%d/len=%d", seed, metaint, len(audio)), func(t *testing.T) {
			if want := reference(metaint, audio, segs); !bytes.Equal(stream, want) {
				t.Fatal("Framer output differs from reference")
			}
			checkStream(t, metaint, stream, audio, titleAt, &randReader{stream, rnd})

			var metas []Meta
			r := NewReader(bytes.NewReader(stream), metaint, func(m Meta) { metas = append(metas, m) })
			if _, err := io.Copy(io.Discard, r); err != nil {
				t.Fatal(err)
			}
			for i, s := range starts {
				if metaint == 0 {
					break
				}
				b := (s.off + metaint - 1) / metaint * metaint // first boundary >= start
				b = max(b, metaint)
				end := len(audio)
				if i+1 < len(starts) {
					end = starts[i+1].off
				}
				if b >= end {
					continue // the title ended before a boundary: never announced
				}
				m := metas[b/metaint-1]
				if m.Offset != int64(b) || !m.Full || m.Title != s.title {
					t.Fatalf("title %q starting at %d: got %+v at the first boundary %d", s.title, s.off, m, b)
				}
			}
		})
	}
}

func TestReaderHandlesShortReads(t *testing.T) {
	const metaint = 5
	audio := pattern(23)
	segs := []seg{{7, Block("A")}, {16, Block("B")}}
	stream := flatten(frame(metaint, audio, segs, fixed(4)))
	titleAt := []string{"A", "A", "A", "A", "A", "A", "A"}
	for range 16 {
		titleAt = append(titleAt, "B")
	}
	for name, src := range map[string]func() io.Reader{
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
		"whole":    func() io.Reader { return bytes.NewReader(stream) },
	} {
		t.Run(name, func(t *testing.T) {
			checkStream(t, metaint, stream, audio, titleAt, src())
		})
	}
}

func TestReaderErrors(t *testing.T) {
	const metaint = 4
	full := Block("A")
	audio := []byte("abcd")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	errBroken := errors.New("broken pipe")
	tests := []struct {
		name      string
		src       io.Reader
		wantAudio string
		wantErr   error // nil: clean io.EOF
	}{
		{"ends mid-interval", bytes.NewReader([]byte("ab")), "ab", nil},
		{"ends at a boundary", bytes.NewReader(audio), "abcd", nil},
		{"ends after a block", bytes.NewReader(cat(audio, full)), "abcd", nil},
		{"ends after the length byte", bytes.NewReader(cat(audio, full[:1])), "abcd", ErrTruncated},
		{"ends inside the payload", bytes.NewReader(cat(audio, full[:10])), "abcd", ErrTruncated},
		{"full block without StreamTitle", bytes.NewReader(cat(audio, []byte{1}, make([]byte, 16), audio)), "abcd", ErrMalformed},
		{"garbage length byte", bytes.NewReader(cat(audio, []byte{200}, []byte("xyz"))), "abcd", ErrTruncated},
		{"source error in audio", io.MultiReader(bytes.NewReader([]byte("ab")), iotest.ErrReader(errBroken)), "ab", errBroken},
		{"source error in a block", io.MultiReader(bytes.NewReader(cat(audio, full[:3])), iotest.ErrReader(errBroken)), "abcd", errBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.src, metaint, nil)
			got, err := io.ReadAll(r)
			if string(got) != tt.wantAudio {
				t.Fatalf("audio %q, want %q", got, tt.wantAudio)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				// Errors are sticky.
				if n, err2 := r.Read(make([]byte, 8)); n != 0 || !errors.Is(err2, tt.wantErr) {
					t.Fatalf("second Read = %d, %v; want 0, %v", n, err2, tt.wantErr)
				}
			}
		})
	}
}

func TestReaderAccessors(t *testing.T) {
	stream := flatten(frame(3, pattern(7), []seg{{7, Block("T")}}, fixed(7)))
	r := NewReader(bytes.NewReader(stream), 3, nil)
	buf := make([]byte, 100)
	n, err := r.Read(buf)
	if n != 3 || err != nil || r.Title() != "" || r.Offset() != 3 {
		t.Fatalf("first Read = %d, %v, title %q, offset %d; want 3 bytes, no title yet", n, err, r.Title(), r.Offset())
	}
	if n, err = r.Read(buf); n != 3 || err != nil || r.Title() != "T" || r.Offset() != 6 {
		t.Fatalf("second Read = %d, %v, title %q, offset %d; want 3 bytes, title T", n, err, r.Title(), r.Offset())
	}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty Read = %d, %v", n, err)
	}
}
