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
	// dctScale[n] holds 1/(2cos((2k+1)π/2n)) for the odd half of an
	// n-point DCT-II split into two n/2-point ones.
	dctScale [33][]float32
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
	for n := 2; n <= 32; n *= 2 {
		dctScale[n] = make([]float32, n/2)
		for k := range n / 2 {
			dctScale[n][k] = float32(1 / (2 * math.Cos(float64(2*k+1)*math.Pi/float64(2*n))))
		}
	}
}

// dct computes the unnormalised DCT-II of x in place, y[j] =
// Σk x[k]·cos((2k+1)jπ/2n) with n = len(x) a power of two, using tmp (as
// long as x) as scratch: the sums and the scaled differences of mirrored
// inputs are two half-size DCTs giving the even and the odd outputs.
func dct(x, tmp []float32) {
	n := len(x)
	if n == 1 {
		return
	}
	h := n / 2
	c := dctScale[n]
	tmp = tmp[:n]
	for k := 0; k < h; k++ {
		a, b := x[k], x[n-1-k]
		tmp[k] = a + b
		tmp[h+k] = (a - b) * c[k]
	}
	dct(tmp[:h], x[:h])
	dct(tmp[h:], x[h:])
	for m := 0; m < h; m++ {
		x[2*m] = tmp[m]
	}
	for m := 0; m < h-1; m++ {
		x[2*m+1] = tmp[h+m] + tmp[h+m+1]
	}
	x[n-1] = tmp[n-1]
}

// synthState is one channel's synthesis history.
type synthState struct {
	v   [1024]float32
	off int // v[(off+i)&1023] is the standard's V[i]
}

// synth filters 18 time slots of subband samples into 576 samples written
// to dst[0], dst[stride], dst[2*stride]...
func (s *synthState) synth(in *[18][32]float32, dst []float32, stride int) {
	var y, tmp [32]float32
	o := 0
	for t := 0; t < 18; t++ {
		y = in[t]
		dct(y[:], tmp[:])
		s.off = (s.off - 64) & 1023
		v := &s.v
		base := s.off
		for i := 0; i < 16; i++ {
			v[(base+i)&1023] = y[16+i]
		}
		v[(base+16)&1023] = 0
		for i := 17; i <= 48; i++ {
			v[(base+i)&1023] = -y[48-i]
		}
		for i := 49; i < 64; i++ {
			v[(base+i)&1023] = -y[i-48]
		}
		for j := 0; j < 32; j++ {
			var sum float32
			for i := 0; i < 8; i++ {
				sum += v[(base+i*128+j)&1023] * synthWindow[i*64+j]
				sum += v[(base+i*128+96+j)&1023] * synthWindow[i*64+32+j]
			}
			dst[o] = sum
			o += stride
		}
	}
}
