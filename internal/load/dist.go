package load

import (
	"math"
	"slices"
	"time"
)

// Dist summarises a set of measurements: latencies in milliseconds, rates
// in bytes per second.
type Dist struct {
	N    int     `json:"n"`
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// newDist summarises v (which it sorts). Quantiles are nearest-rank: the
// p99 of 1000 values is the 990th smallest, a value that was measured.
func newDist(v []float64) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	slices.Sort(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	return Dist{
		N:    len(v),
		Min:  v[0],
		Mean: sum / float64(len(v)),
		P50:  quantile(v, 0.50),
		P95:  quantile(v, 0.95),
		P99:  quantile(v, 0.99),
		Max:  v[len(v)-1],
	}
}

// quantile is the nearest-rank q-quantile of sorted v.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
