package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/onairfm/onair/control"
)

// BenchmarkListStations measures GET /api/stations with 50 stations, each
// joined with its live state and like count.
func BenchmarkListStations(b *testing.B) {
	e := newEnv(b)
	for i := range 49 {
		if _, err := e.srv.Control.CreateStation(context.Background(), e.owner, control.NewStation{Name: fmt.Sprintf("Station %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	url := e.ts.URL + "/api/stations"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := e.client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkGetStation measures GET /api/stations/{slug}.
func BenchmarkGetStation(b *testing.B) {
	e := newEnv(b)
	url := e.ts.URL + "/api/stations/" + e.slug
	b.ReportAllocs()
	for b.Loop() {
		resp, err := e.client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
