package load

import "testing"

func TestNewDist(t *testing.T) {
	v := make([]float64, 1000)
	for i := range v {
		v[i] = float64(1000 - i) // 1000 .. 1, reversed
	}
	d := newDist(v)
	want := Dist{N: 1000, Min: 1, Mean: 500.5, P50: 500, P95: 950, P99: 990, Max: 1000}
	if d != want {
		t.Errorf("got %+v, want %+v", d, want)
	}
	if d := newDist(nil); d != (Dist{}) {
		t.Errorf("empty: %+v", d)
	}
	if d := newDist([]float64{7}); d.P50 != 7 || d.P99 != 7 || d.Min != 7 {
		t.Errorf("one value: %+v", d)
	}
}

func TestQuantileNearestRank(t *testing.T) {
	v := []float64{1, 2, 3, 4}
	for _, tt := range []struct{ q, want float64 }{{0, 1}, {0.25, 1}, {0.26, 2}, {0.5, 2}, {0.75, 3}, {0.99, 4}, {1, 4}} {
		if got := quantile(v, tt.q); got != tt.want {
			t.Errorf("q%.2f = %v, want %v", tt.q, got, tt.want)
		}
	}
}
