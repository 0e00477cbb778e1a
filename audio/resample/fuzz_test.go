package resample

import (
	"errors"
	"math"
	"testing"
)

// FuzzResampler drives a resampler with fuzzer-chosen rates, rate changes,
// chunk sizes and samples: it must never panic, never exceed MaxOut, and
// keep bounded input bounded (the filter's gain is at most Σ|h| < 2).
func FuzzResampler(f *testing.F) {
	f.Add([]byte{0, 7, 200, 3, 9, 1, 255, 0, 4, 4, 4, 130})
	f.Add([]byte{1, 8, 8, 8, 8, 2, 0, 0, 0, 100, 50})
	rates := append(listedRates, 48000, 96000, 37800, 44056) // 44056: refused
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		ch := 1 + int(data[0]&1)
		r, err := New(rates[int(data[1])%len(rates)], 48000, ch)
		if errors.Is(err, ErrRatio) { // 44056 Hz needs 6000 phases
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		data = data[2:]
		for len(data) >= 2 {
			op, arg := data[0], data[1]
			data = data[2:]
			switch op % 4 {
			case 0:
				if err := r.SetInputRate(rates[int(arg)%len(rates)]); err != nil && !errors.Is(err, ErrRatio) {
					t.Fatal(err)
				}
			case 1:
				r.Reset()
			default:
				n := int(arg) * int(op>>2+1) % 4000
				in := make([]float32, n*ch)
				for i := range in {
					in[i] = float32(math.Sin(float64(i)*float64(op)*0.37)) * float32(arg) / 255
				}
				bound := r.MaxOut(n)
				out := make([]float32, (bound+8)*ch)
				got := r.Process(in, out)
				if got > bound {
					t.Fatalf("%d frames out for %d in, MaxOut said %d", got, n, bound)
				}
				for i, v := range out[:got*ch] {
					if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 2 {
						t.Fatalf("sample %d = %v from input within [-1, 1]", i, v)
					}
				}
			}
		}
	})
}
