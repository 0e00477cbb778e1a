package mp3dec

// A Huffman code is decoded with a tree of lookup tables: the next rootBits
// bits of the stream index the first table; an entry either is a value
// (with how many of the indexed bits its code word uses) or points to a
// table for the bits that follow. Layer III code words are at most 19 bits
// long, so a pair costs one or two lookups.
//
// An entry is a uint32: bit 31 set marks a link, whose bits 0..4 are the
// width of the next table and bits 8..30 its offset in the same slice;
// otherwise bits 0..4 are the code length and bits 8..15 the value.
const (
	rootBits = 8
	linkFlag = 1 << 31
)

type huffTable struct {
	e    []uint32
	root int // width of the first table
}

// pairTables[n] decodes the pairs of big-values table n (0..31, the
// standard's numbering); linbits[n] is its escape length.
var (
	pairTables [32]huffTable
	linbits    = [32]int{16: 1, 2, 3, 4, 6, 8, 10, 13, 4, 5, 6, 7, 8, 9, 11, 13}
	quadTableA huffTable
	// validTable is false for tables 4 and 14, which do not exist.
	validTable [32]bool
)

// code is a code word and the value it stands for.
type code struct {
	bits  uint32
	len   int
	value int
}

func init() {
	byNumber := map[int]huffTable{}
	for _, t := range codeWords {
		codes := parseWords(t.words, t.size)
		tab := buildTable(codes)
		if t.number == 32 {
			quadTableA = tab
			continue
		}
		byNumber[t.number] = tab
	}
	for n := 0; n < 32; n++ {
		src := n
		switch {
		case n >= 24:
			src = 24
		case n >= 16:
			src = 16
		}
		tab, ok := byNumber[src]
		if n == 0 {
			ok = true
		}
		pairTables[n] = tab
		validTable[n] = ok
	}
}

// parseWords turns the text form of a table into codes. Pair values are
// x<<4 | y; quadruple values are vwxy.
func parseWords(words string, size int) []code {
	var codes []code
	i := 0
	cur := code{}
	flush := func() {
		if cur.len == 0 {
			return
		}
		x, y := i/size, i%size
		cur.value = x<<4 | y
		codes = append(codes, cur)
		cur = code{}
		i++
	}
	for j := 0; j < len(words); j++ {
		switch words[j] {
		case ' ':
			flush()
		case '0', '1':
			cur.bits = cur.bits<<1 | uint32(words[j]-'0')
			cur.len++
		}
	}
	flush()
	return codes
}

// buildTable makes the lookup tables for a complete prefix code.
func buildTable(codes []code) huffTable {
	var e []uint32
	fill(&e, codes, 0)
	root := 0
	for _, c := range codes {
		root = max(root, c.len)
	}
	return huffTable{e: e, root: min(root, rootBits)}
}

// fill appends to t a table for the codes, all of which share their first
// depth bits, and returns its offset.
func fill(t *[]uint32, codes []code, depth int) int {
	width := 0
	for _, c := range codes {
		width = max(width, c.len-depth)
	}
	width = min(width, rootBits)
	base := len(*t)
	*t = append(*t, make([]uint32, 1<<width)...)
	// Codes ending within this table fill every entry they prefix.
	groups := map[uint32][]code{}
	for _, c := range codes {
		rest := c.len - depth
		sub := (c.bits >> uint(max(rest-width, 0))) & (1<<uint(min(rest, width)) - 1)
		if rest <= width {
			first := sub << uint(width-rest)
			for k := uint32(0); k < 1<<uint(width-rest); k++ {
				(*t)[base+int(first+k)] = uint32(c.value)<<8 | uint32(rest)
			}
			continue
		}
		groups[sub] = append(groups[sub], c)
	}
	for sub, g := range groups {
		next := fill(t, g, depth+width)
		nextWidth := 0
		for _, c := range g {
			nextWidth = max(nextWidth, c.len-depth-width)
		}
		(*t)[base+int(sub)] = linkFlag | uint32(next)<<8 | uint32(min(nextWidth, rootBits))
	}
	return base
}

// decode reads one code word with t and returns its value.
func (r *bitReader) decode(t *huffTable) int {
	w := t.root
	e := t.e[r.peek(w)]
	for e&linkFlag != 0 {
		r.pos += w
		w = int(e & 31)
		e = t.e[int(e>>8&0x7fffff)+int(r.peek(w))]
	}
	r.pos += int(e & 31)
	return int(e >> 8)
}
