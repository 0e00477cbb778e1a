package icy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// fixed returns a chunker that always answers n.
func fixed(n int) func() int { return func() int { return n } }

// cycle returns a chunker cycling through sizes.
func cycle(sizes ...int) func() int {
	i := 0
	return func() int { n := sizes[i%len(sizes)]; i++; return n }
}

func TestFramerChunkingDoesNotChangeOutput(t *testing.T) {
	block := Block("Artist - Title")
	for _, metaint := range []int{1, 7, 16, 16000} {
		for _, n := range []int{0, 1, metaint - 1, metaint, metaint + 1, 3*metaint + 7} {
			audio := pattern(n)
			segs := []seg{{n, block}}
			want := reference(metaint, audio, segs)
			rnd := rand.New(rand.NewPCG(uint64(metaint), uint64(n)))
			chunkings := map[string]func() int{
				"whole":      fixed(n + 1),
				"bytes":      fixed(1),
				"pairs":      fixed(2),
				"metaint-1":  fixed(max(metaint-1, 1)),
				"metaint":    fixed(metaint),
				"metaint+1":  fixed(metaint + 1),
				"mp3 frames": cycle(417, 418),
				"mixed":      cycle(1, metaint, 3, 2*metaint+1),
				"random":     func() int { return 1 + rnd.IntN(2*metaint+2) },
			}
			for name, chunk := range chunkings {
				t.Run(fmt.Sprintf("metaint=%d/n=%d/%s", metaint, n, name), func(t *testing.T) {
					got := flatten(frame(metaint, audio, segs, chunk))
					if !bytes.Equal(got, want) {
						t.Fatalf("output differs from reference: got %d bytes, want %d", len(got), len(want))
					}
					gotAudio, blocks := walkStream(t, metaint, got)
					if !bytes.Equal(gotAudio, audio) {
						t.Fatal("audio not preserved")
					}
					if wantBlocks := max(n-1, 0) / metaint; len(blocks) != wantBlocks {
						t.Fatalf("got %d blocks, want %d", len(blocks), wantBlocks)
					}
					for i, b := range blocks {
						wantBlock := Empty()
						if i == 0 {
							wantBlock = block // the first is always full
						}
						if !bytes.Equal(b.block, wantBlock) {
							t.Fatalf("block %d at %d: got %q, want %q", i, b.off, b.block, wantBlock)
						}
					}
				})
			}
		}
	}
}

func TestFramerTitleChange(t *testing.T) {
	const metaint = 10
	a, b := Block("A"), Block("B")
	audio := pattern(35) // boundaries at 10, 20, 30
	tests := []struct {
		name  string
		split int      // first byte of title B
		want  []string // block at 10, 20, 30: a title (full) or "-" (unchanged)
	}{
		{"B from the start", 0, []string{"B", "-", "-"}},
		{"inside the first interval", 5, []string{"B", "-", "-"}},
		{"one byte before a boundary", 9, []string{"B", "-", "-"}},
		{"exactly at the first boundary", 10, []string{"B", "-", "-"}},
		{"one byte after a boundary", 11, []string{"A", "B", "-"}},
		{"one byte before the second boundary", 19, []string{"A", "B", "-"}},
		{"exactly at the second boundary", 20, []string{"A", "B", "-"}},
		{"just after the second boundary", 21, []string{"A", "-", "B"}},
		{"exactly at the last boundary", 30, []string{"A", "-", "B"}},
		{"after the last boundary", 31, []string{"A", "-", "-"}},
		{"never", 35, []string{"A", "-", "-"}},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 3, 10, 11, 100} {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, chunk), func(t *testing.T) {
				segs := []seg{{tt.split, a}, {len(audio) - tt.split, b}}
				out := flatten(frame(metaint, audio, segs, fixed(chunk)))
				if want := reference(metaint, audio, segs); !bytes.Equal(out, want) {
					t.Fatalf("output differs from reference")
				}
				_, blocks := walkStream(t, metaint, out)
				var got []string
				for _, blk := range blocks {
					if title, ok := ParseStreamTitle(blk.block); ok {
						got = append(got, title)
					} else {
						got = append(got, "-")
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("blocks at 10, 20, 30: got %v, want %v", got, tt.want)
				}
			})
		}
	}
}

func TestFramerSendsEmptyWhenUnchanged(t *testing.T) {
	const metaint = 4
	a := Block("A")
	aAgain := Block("A") // same content, different memory
	b := Block("B")
	tests := []struct {
		name   string
		blocks [][]byte // one per 4-byte interval, announced at the boundary after the first
		want   []string // "full" or "empty" per boundary
	}{
		{"same slice", [][]byte{a, a, a}, []string{"full", "empty"}},
		{"same content, other slice", [][]byte{a, a, aAgain}, []string{"full", "empty"}},
		{"change and back", [][]byte{a, b, a, a}, []string{"full", "full", "empty"}},
		{"first is full even after unchanged audio", [][]byte{b, b}, []string{"full"}},
		{"empty title is a full block", [][]byte{a, Block(""), Block("")}, []string{"full", "empty"}},
		{"title cleared then set", [][]byte{Block(""), a}, []string{"full"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFramer(metaint)
			var bufs [][]byte
			for _, blk := range tt.blocks {
				bufs = f.Append(bufs, pattern(metaint), blk)
			}
			_, blocks := walkStream(t, metaint, flatten(bufs))
			// The block at boundary i describes interval i (0-based), so the
			// first interval's block is never sent.
			if len(blocks) != len(tt.blocks)-1 {
				t.Fatalf("got %d blocks, want %d", len(blocks), len(tt.blocks)-1)
			}
			for i, blk := range blocks {
				got := "empty"
				if len(blk.block) > 1 {
					got = "full"
					if !bytes.Equal(blk.block, tt.blocks[i+1]) {
						t.Fatalf("boundary %d: got %q, want %q", i, blk.block, tt.blocks[i+1])
					}
				}
				if i < len(tt.want) && got != tt.want[i] {
					t.Fatalf("boundary %d: got %s block, want %s", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestFramerStateIsPerListener(t *testing.T) {
	a := Block("A")
	for i := range 3 {
		f := NewFramer(2)
		bufs := f.Append(nil, pattern(3), a)
		if !bytes.Equal(bufs[1], a) {
			t.Fatalf("listener %d: first block %q, want the full block", i, bufs[1])
		}
	}
}

func TestFramerMalformedBlocksKeepFraming(t *testing.T) {
	const metaint = 3
	good := Block("Good")
	tests := []struct {
		name  string
		block []byte
	}{
		{"nil", nil},
		{"zero length", []byte{}},
		{"length byte says more", []byte{2, 'x'}},
		{"length byte says less", append([]byte{0}, make([]byte, 16)...)},
		{"the empty block itself", []byte{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFramer(metaint)
			bufs := f.Append(nil, pattern(4), tt.block)
			bufs = f.Append(bufs, pattern(3), good)
			bufs = f.Append(bufs, pattern(3), tt.block)
			audio, blocks := walkStream(t, metaint, flatten(bufs))
			if len(audio) != 10 || len(blocks) != 3 {
				t.Fatalf("got %d audio bytes and %d blocks, want 10 and 3", len(audio), len(blocks))
			}
			want := [][]byte{{0}, good, {0}}
			for i, blk := range blocks {
				if !bytes.Equal(blk.block, want[i]) {
					t.Fatalf("block %d: got %q, want %q", i, blk.block, want[i])
				}
			}
		})
	}
}

func TestFramerWithoutMetadataPassesAudioThrough(t *testing.T) {
	audio := pattern(100)
	for _, f := range []*Framer{NewFramer(0), NewFramer(-5), {}} {
		var bufs [][]byte
		bufs = f.Append(bufs, audio[:40], Block("A"))
		bufs = f.Append(bufs, audio[40:40], Block("A"))
		bufs = f.Append(bufs, audio[40:], nil)
		if len(bufs) != 2 || &bufs[0][0] != &audio[0] || &bufs[1][0] != &audio[40] {
			t.Fatalf("got %d elements, want the 2 audio slices as given", len(bufs))
		}
		if !bytes.Equal(flatten(bufs), audio) {
			t.Fatal("audio changed")
		}
		if f.Metaint() != 0 {
			t.Fatalf("Metaint() = %d, want 0", f.Metaint())
		}
	}
}

// TestFramerSharesAudio checks the fan-out promise: every audio element is a
// window on the caller's audio (not a copy) whose capacity stops at its end,
// and blocks are the shared ones.
func TestFramerSharesAudio(t *testing.T) {
	audio := pattern(1000)
	block := Block("Shared")
	f := NewFramer(64)
	var bufs [][]byte
	for i := 0; i < len(audio); i += 100 {
		bufs = f.Append(bufs, audio[i:i+100], block)
	}
	start := uintptr(unsafe.Pointer(&audio[0]))
	end := start + uintptr(len(audio))
	for i, b := range bufs {
		p := uintptr(unsafe.Pointer(&b[0]))
		switch {
		case len(b) == 1 && b[0] == 0:
			if p != uintptr(unsafe.Pointer(&Empty()[0])) {
				t.Fatalf("element %d: an empty block that is not the shared Empty", i)
			}
		case len(b) == len(block) && p == uintptr(unsafe.Pointer(&block[0])):
		case p >= start && p+uintptr(len(b)) <= end:
			if cap(b) != len(b) {
				t.Fatalf("element %d: cap %d > len %d, an append would overwrite shared audio", i, cap(b), len(b))
			}
		default:
			t.Fatalf("element %d (%d bytes) is neither shared audio nor a shared block", i, len(b))
		}
	}
}

// TestFramerBoundaryEndsCall checks the lazy insertion: a call whose audio
// ends on a boundary leaves the block to the next call.
func TestFramerBoundaryEndsCall(t *testing.T) {
	a, b := Block("A"), Block("B")
	f := NewFramer(8)
	bufs := f.Append(nil, pattern(8), a)
	if len(bufs) != 1 {
		t.Fatalf("after exactly metaint bytes: %d elements, want 1 (audio only)", len(bufs))
	}
	bufs = f.Append(bufs, nil, a)
	if len(bufs) != 1 {
		t.Fatalf("an empty call added %d elements", len(bufs)-1)
	}
	bufs = f.Append(bufs, pattern(1), b)
	if len(bufs) != 3 || !bytes.Equal(bufs[1], b) {
		t.Fatalf("the next call must start with its own block B, got %q", bufs[1:])
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	audio := pattern(4180) // ten 418-byte frames
	blocks := [][]byte{Block("A"), Block("B")}
	f := NewFramer(1000)
	bufs := make([][]byte, 0, 64)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		bufs = f.Append(bufs[:0], audio, blocks[i%2])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Append allocated %.1f times per call with spare capacity", allocs)
	}
}

// BenchmarkAppend frames one 128 kbit/s listener: 418-byte MP3 frames,
// metaint 16000, a title change every 100 frames. bytes/s is audio framed
// per second; listeners/core is how many such listeners one core frames.
func BenchmarkAppend(b *testing.B) {
	const frameLen, metaint, bytesPerListener = 418, 16000, 128000 / 8
	audio := pattern(frameLen)
	blocks := [][]byte{Block("Artist - Title"), Block("Other - Song")}
	f := NewFramer(metaint)
	bufs := make([][]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(frameLen)
	i := 0
	for b.Loop() {
		if len(bufs) > 200 {
			bufs = bufs[:0]
		}
		bufs = f.Append(bufs, audio, blocks[(i/100)%2])
		i++
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(i)*frameLen/s/bytesPerListener, "listeners/core")
	}
}
