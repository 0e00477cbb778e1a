package mp3dec

import (
	"strings"
	"testing"
)

// TestHuffmanTables checks each code table's text: the right number of
// code words, a complete prefix code (no word starts another, and the
// words fill the code space exactly), and that the lookup tables built
// from it decode every word, followed by any bits, to its value.
func TestHuffmanTables(t *testing.T) {
	for _, tab := range codeWords {
		words := strings.Fields(tab.words)
		want := tab.size * tab.size
		if tab.number == 32 {
			want = 16
		}
		if len(words) != want {
			t.Errorf("table %d: %d words, want %d", tab.number, len(words), want)
			continue
		}
		var kraft float64
		for i, a := range words {
			kraft += 1 / float64(uint64(1)<<len(a))
			for j, b := range words {
				if i != j && strings.HasPrefix(b, a) {
					t.Errorf("table %d: %s is a prefix of %s", tab.number, a, b)
				}
			}
		}
		if kraft != 1 {
			t.Errorf("table %d: Kraft sum %v, want 1", tab.number, kraft)
		}
		ht := buildTable(parseWords(tab.words, tab.size))
		for i, w := range words {
			for _, tail := range []string{"", "0000000000000000000000000", "1111111111111111111111111"} {
				var buf [16]byte
				bits := w + tail
				for k := 0; k < len(bits) && k < 64; k++ {
					if bits[k] == '1' {
						buf[k/8] |= 0x80 >> (k % 8)
					}
				}
				r := bitReader{buf: buf[:]}
				v := r.decode(&ht)
				if want := (i/tab.size)<<4 | i%tab.size; v != want || r.pos != len(w) {
					t.Errorf("table %d word %s%s: value %#x after %d bits, want %#x after %d",
						tab.number, w, tail[:1+len(tail)/100], v, r.pos, want, len(w))
				}
			}
		}
	}
	// Every table the side information can select exists, except 4 and 14.
	for n := range 32 {
		if validTable[n] != (n != 4 && n != 14) {
			t.Errorf("table %d: valid %v", n, validTable[n])
		}
	}
}

func TestBandTables(t *testing.T) {
	for i, b := range bandTables {
		if b.long[0] != 0 || b.long[22] != 576 || b.short[0] != 0 || b.short[13] != 192 {
			t.Errorf("rate %d: bad ends", i)
		}
		for k := 1; k < len(b.long); k++ {
			if b.long[k] <= b.long[k-1] || b.long[k]%2 != 0 {
				t.Errorf("rate %d: long band %d: %d after %d", i, k, b.long[k], b.long[k-1])
			}
		}
		for k := 1; k < len(b.short); k++ {
			if b.short[k] <= b.short[k-1] || b.short[k]%2 != 0 {
				t.Errorf("rate %d: short band %d: %d after %d", i, k, b.short[k], b.short[k-1])
			}
		}
	}
	for kind := range 3 {
		for tab := range 6 {
			n := 0
			for _, c := range lsfCounts[tab][kind] {
				n += c
			}
			want := [3]int{21, 36, 33}[kind]
			if n != want {
				t.Errorf("nr_of_sfb[%d][%d] sums to %d, want %d", tab, kind, n, want)
			}
		}
	}
}

// TestSynthesisWindow checks the window against values printed in
// ISO/IEC 11172-3 Table B.3 and its symmetry.
func TestSynthesisWindow(t *testing.T) {
	for _, tc := range []struct {
		i int
		v float32
	}{
		{1, -0.000015259}, {64, 0.003250122}, {128, 0.031082153}, {256, 1.144989014}, {511, 0.000015259},
	} {
		if d := synthWindow[tc.i] - tc.v; d > 1e-8 || d < -1e-8 {
			t.Errorf("D[%d] = %.9f, want %.9f", tc.i, synthWindow[tc.i], tc.v)
		}
	}
}
