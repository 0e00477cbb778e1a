package mp3dec

import "math"

// The polyphase synthesis filter bank (ISO/IEC 11172-3 2.4.3.2.2 and
// Annex A, Figure A.2): each time slot's 32 subband samples go through the
// matrixing V[i] = Σk cos((16+i)(2k+1)π/64)·S[k], i < 64, pushed into a
// 1024-sample history, and 32 output samples are windowed sums of 16
// history entries each. The matrixing is done as a 32-point DCT-II
// y[j] = Σk cos((2k+1)jπ/64)·S[k], which gives all 64 V values by
// symmetry: V[i] = y[16+i] for i < 16, V[16] = 0, V[i] = -y[48-i] for
// 16 < i <= 48 and V[i] = -y[i-48] above.

// synthWindowHalf holds D[i]·65536 for i = 0..256, the first half of the
// synthesis window of ISO/IEC 11172-3 Table B.3 (whose values are
// multiples of 2^-16). The second half follows from the symmetry of the
// prototype filter: D[512-i] = -D[i], except D[512-i] = D[i] when i is a
// multiple of 64.
var synthWindowHalf = [257]int32{
	0, -1, -1, -1, -1, -1, -1, -2, -2, -2, -2, -3, -3, -4, -4, -5,
	-5, -6, -7, -7, -8, -9, -10, -11, -13, -14, -16, -17, -19, -21, -24, -26,
	-29, -31, -35, -38, -41, -45, -49, -53, -58, -63, -68, -73, -79, -85, -91, -97,
	-104, -111, -117, -125, -132, -139, -147, -154, -161, -169, -176, -183, -190, -196, -202, -208,
	213, 218, 222, 225, 227, 228, 228, 227, 224, 221, 215, 208, 200, 189, 177, 163,
	146, 127, 106, 83, 57, 29, -2, -36, -72, -111, -153, -197, -244, -294, -347, -401,
	-459, -519, -581, -645, -711, -779, -848, -919, -991, -1064, -1137, -1210, -1283, -1356, -1428, -1498,
	-1567, -1634, -1698, -1759, -1817, -1870, -1919, -1962, -2001, -2032, -2057, -2075, -2085, -2087, -2080, -2063,
	2037, 2000, 1952, 1893, 1822, 1739, 1644, 1535, 1414, 1280, 1131, 970, 794, 605, 402, 185,
	-45, -288, -545, -814, -1095, -1388, -1692, -2006, -2330, -2663, -3004, -3351, -3705, -4063, -4425, -4788,
	-5153, -5517, -5879, -6237, -6589, -6935, -7271, -7597, -7910, -8209, -8491, -8755, -8998, -9219, -9416, -9585,
	-9727, -9838, -9916, -9959, -9966, -9935, -9863, -9750, -9592, -9389, -9139, -8840, -8492, -8092, -7640, -7134,
	6574, 5959, 5288, 4561, 3776, 2935, 2037, 1082, 70, -998, -2122, -3300, -4533, -5818, -7154, -8540,
	-9975, -11455, -12980, -14548, -16155, -17799, -19478, -21189, -22929, -24694, -26482, -28289, -30112, -31947, -33791, -35640,
	-37489, -39336, -41176, -43006, -44821, -46617, -48390, -50137, -51853, -53534, -55178, -56778, -58333, -59838, -61289, -62684,
	-64019, -65290, -66494, -67629, -68692, -69679, -70590, -71420, -72169, -72835, -73415, -73908, -74313, -74630, -74856, -74992,
	75038,
}

var (
	synthWindow [512]float32
	// dctScaleN holds 1/(2cos((2k+1)π/2N)), which turns the differences of
	// mirrored inputs of an N-point DCT-II into the input of the half-size
	// DCT giving its odd outputs.
	dctScale32 [16]float32
	dctScale16 [8]float32
	dctScale8  [4]float32
	dctScale4  [2]float32
	dctScale2  [1]float32
)

func init() {
	for i := 0; i <= 256; i++ {
		v := float32(synthWindowHalf[i]) / 65536
		synthWindow[i] = v
		if i > 0 && i < 256 {
			if i%64 == 0 {
				synthWindow[512-i] = v
			} else {
				synthWindow[512-i] = -v
			}
		}
	}
	scale := func(c []float32) {
		n := 2 * len(c)
		for k := range c {
			c[k] = float32(1 / (2 * math.Cos(float64(2*k+1)*math.Pi/float64(2*n))))
		}
	}
	scale(dctScale32[:])
	scale(dctScale16[:])
	scale(dctScale8[:])
	scale(dctScale4[:])
	scale(dctScale2[:])
}

// dct32 computes the unnormalised DCT-II of x in place, y[j] =
// Σk x[k]·cos((2k+1)jπ/64). Each size splits into two of half the size:
// the sums of mirrored inputs give the even outputs, their scaled
// differences the odd ones (each the sum of two neighbouring outputs of
// the half-size DCT). The sizes are written out one by one, on arrays of
// their own length, so that the compiler drops the bounds checks and keeps
// the halves on the stack: this runs for every 32 samples of every
// channel, and a recursion over slices would pay for both.
func dct32(x *[32]float32) {
	var e, o [16]float32
	c := &dctScale32
	for k := 0; k < 16; k++ {
		a, b := x[k], x[31-k]
		e[k] = a + b
		o[k] = (a - b) * c[k]
	}
	dct16(&e)
	dct16(&o)
	for m := 0; m < 15; m++ {
		x[2*m] = e[m]
		x[2*m+1] = o[m] + o[m+1]
	}
	x[30] = e[15]
	x[31] = o[15]
}

func dct16(x *[16]float32) {
	var e, o [8]float32
	c := &dctScale16
	for k := 0; k < 8; k++ {
		a, b := x[k], x[15-k]
		e[k] = a + b
		o[k] = (a - b) * c[k]
	}
	dct8(&e)
	dct8(&o)
	for m := 0; m < 7; m++ {
		x[2*m] = e[m]
		x[2*m+1] = o[m] + o[m+1]
	}
	x[14] = e[7]
	x[15] = o[7]
}

func dct8(x *[8]float32) {
	var e, o [4]float32
	c := &dctScale8
	for k := 0; k < 4; k++ {
		a, b := x[k], x[7-k]
		e[k] = a + b
		o[k] = (a - b) * c[k]
	}
	dct4(&e)
	dct4(&o)
	for m := 0; m < 3; m++ {
		x[2*m] = e[m]
		x[2*m+1] = o[m] + o[m+1]
	}
	x[6] = e[3]
	x[7] = o[3]
}

func dct4(x *[4]float32) {
	var e, o [2]float32
	c := &dctScale4
	for k := 0; k < 2; k++ {
		a, b := x[k], x[3-k]
		e[k] = a + b
		o[k] = (a - b) * c[k]
	}
	dct2(&e)
	dct2(&o)
	for m := 0; m < 1; m++ {
		x[2*m] = e[m]
		x[2*m+1] = o[m] + o[m+1]
	}
	x[2] = e[1]
	x[3] = o[1]
}

func dct2(x *[2]float32) {
	a, b := x[0], x[1]
	x[0] = a + b
	x[1] = (a - b) * dctScale2[0]
}

// synthState is one channel's synthesis history.
type synthState struct {
	v   [1024]float32
	off int // v[(off+i)&1023] is the standard's V[i]
}

// synth filters 18 time slots of subband samples into 576 samples written
// to dst[0], dst[stride], dst[2*stride]...
func (s *synthState) synth(in *[18][32]float32, dst []float32, stride int) {
	o := 0
	for t := 0; t < 18; t++ {
		y := in[t]
		dct32(&y)
		s.off = (s.off - 64) & 1023
		base := s.off
		nv := (*[64]float32)(s.v[base : base+64])
		for i := 0; i < 16; i++ {
			nv[i] = y[16+i]
		}
		nv[16] = 0
		for i := 17; i <= 48; i++ {
			nv[i] = -y[48-i]
		}
		for i := 49; i < 64; i++ {
			nv[i] = -y[i-48]
		}
		// base is a multiple of 64, so none of the 32-sample runs below
		// wraps around the end of the history.
		var acc [32]float32
		for i := 0; i < 8; i++ {
			a := (*[32]float32)(s.v[(base+i*128)&1023:])
			b := (*[32]float32)(s.v[(base+i*128+96)&1023:])
			da := (*[32]float32)(synthWindow[i*64:])
			db := (*[32]float32)(synthWindow[i*64+32:])
			for j := 0; j < 32; j++ {
				acc[j] += a[j]*da[j] + b[j]*db[j]
			}
		}
		for j := 0; j < 32; j++ {
			dst[o] = acc[j]
			o += stride
		}
	}
}
