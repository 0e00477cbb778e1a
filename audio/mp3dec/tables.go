package mp3dec

import "math"

// bands holds the scale-factor band boundaries of one sampling frequency,
// in spectral lines: long[i] is the first line of long band i (22 bands,
// long[22] = 576); short[i] the first line of short band i within one
// window (13 bands, short[13] = 192).
type bands struct {
	long  [23]int
	short [14]int
}

// Boundaries from ISO/IEC 11172-3 Table B.8 and ISO/IEC 13818-3 Table B.2
// (MPEG-2.5 at 11.025 and 12 kHz uses the 16 kHz short bands and the
// 22.05 kHz long ones, which are the same as 16 kHz).
var (
	long441  = [23]int{0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 52, 62, 74, 90, 110, 134, 162, 196, 238, 288, 342, 418, 576}
	long48   = [23]int{0, 4, 8, 12, 16, 20, 24, 30, 36, 42, 50, 60, 72, 88, 106, 128, 156, 190, 230, 276, 330, 384, 576}
	long32   = [23]int{0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 54, 66, 82, 102, 126, 156, 194, 240, 296, 364, 448, 550, 576}
	long2205 = [23]int{0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576}
	long24   = [23]int{0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 114, 136, 162, 194, 232, 278, 332, 394, 464, 540, 576}
	long8    = [23]int{0, 12, 24, 36, 48, 60, 72, 88, 108, 132, 160, 192, 232, 280, 336, 400, 476, 566, 568, 570, 572, 574, 576}

	short441  = [14]int{0, 4, 8, 12, 16, 22, 30, 40, 52, 66, 84, 106, 136, 192}
	short48   = [14]int{0, 4, 8, 12, 16, 22, 28, 38, 50, 64, 80, 100, 126, 192}
	short32   = [14]int{0, 4, 8, 12, 16, 22, 30, 42, 58, 78, 104, 138, 180, 192}
	short2205 = [14]int{0, 4, 8, 12, 18, 24, 32, 42, 56, 74, 100, 132, 174, 192}
	short24   = [14]int{0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 136, 180, 192}
	short16   = [14]int{0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 134, 174, 192}
	short8    = [14]int{0, 8, 16, 24, 36, 52, 72, 96, 124, 160, 162, 164, 166, 192}
)

// bandTables is indexed by header.rateIdx.
var bandTables = [9]bands{
	{long441, short441},
	{long48, short48},
	{long32, short32},
	{long2205, short2205},
	{long24, short24},
	{long2205, short16},
	{long2205, short16},
	{long2205, short16},
	{long8, short8},
}

// pretab is added to the long-block scale factors when preflag is set
// (ISO/IEC 11172-3 Table B.6).
var pretab = [22]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 2, 0}

// MPEG-1 scale factor lengths by scalefac_compress (slen1, slen2).
var (
	slen1 = [16]int{0, 0, 0, 0, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4}
	slen2 = [16]int{0, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3, 1, 2, 3, 2, 3}
)

// lsfCounts is nr_of_sfb of ISO/IEC 13818-3 Table B.1: how many scale
// factors each of the four slen groups has, by table (from
// scalefac_compress) and block kind (long, short, mixed).
var lsfCounts = [6][3][4]int{
	{{6, 5, 5, 5}, {9, 9, 9, 9}, {6, 9, 9, 9}},
	{{6, 5, 7, 3}, {9, 9, 12, 6}, {6, 9, 12, 6}},
	{{11, 10, 0, 0}, {18, 18, 0, 0}, {15, 18, 0, 0}},
	{{7, 7, 7, 0}, {12, 12, 12, 0}, {6, 15, 12, 0}},
	{{6, 6, 6, 3}, {12, 9, 9, 6}, {6, 12, 9, 6}},
	{{8, 8, 5, 0}, {15, 12, 9, 0}, {6, 18, 9, 0}},
}

// Requantisation tables: pow43[i] = i^(4/3) for every magnitude a Huffman
// value can have (15 plus 13 linbits), and gainPow[q-gainMin] = 2^(q/4)
// for every exponent, in quarter steps, the side information can produce.
const (
	maxValue = 15 + 8191
	// The lowest exponent: global gain 0, subblock gain 7, and the largest
	// scale factor (5 bits, for intensity positions of the lower sampling
	// frequencies) plus pretab at the coarser scale.
	gainMin = -210 - 8*7 - 4*(31+3)
	gainMax = 255 - 210
)

var (
	pow43   [maxValue + 1]float32
	gainPow [gainMax - gainMin + 1]float32
)

func init() {
	for i := range pow43 {
		pow43[i] = float32(math.Pow(float64(i), 4.0/3))
	}
	for i := range gainPow {
		gainPow[i] = float32(math.Exp2(float64(i+gainMin) / 4))
	}
}
