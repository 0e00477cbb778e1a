package stats

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/store"
)

// BenchmarkReport answers reports from a database holding a year of
// one-a-minute samples of a station (and the server's row): 525,600
// samples each, 8,760 hourly roll-ups each. The goal for 30 days is
// ≤ 50 ms. The fill takes about a minute and happens once; with -short
// (CI's one-iteration run) it is 40 days.
//
//	go test -run '^$' -bench Report -benchtime 20x ./stats/
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "onair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(-1, 0, 0)
	if testing.Short() {
		start = end.AddDate(0, 0, -40)
	}
	const station = 1
	fillStart := time.Now()
	var batch []store.StatSample
	i := 0
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		// A daily curve between 20 and 220 listeners, a few chats.
		n := 120 + int(100*dayShape(t))
		s := store.StatSample{StationID: station, T: t, Step: time.Minute, HTTP: n * 2 / 3, WebRTC: n - n*2/3, Chat: i % 3, Likes: i % 5}
		srv := s
		srv.StationID = store.ServerStats
		batch = append(batch, s, srv)
		i++
		if len(batch) >= 2*1440 {
			if err := db.RecordStats(ctx, store.StatsBatch{Samples: batch}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := db.RecordStats(ctx, store.StatsBatch{Samples: batch}); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d samples per row in %v", i, time.Since(fillStart).Round(time.Millisecond))
	r := &Recorder{Store: db, Now: func() time.Time { return end }}
	for _, tc := range []struct {
		name   string
		span   time.Duration
		points int
	}{
		{"1h", time.Hour, 60},
		{"24h", 24 * time.Hour, 1440},
		{"7d", 7 * 24 * time.Hour, 168},
		{"30d", 30 * 24 * time.Hour, 720},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				rep, err := r.Report(ctx, station, end.Add(-tc.span), end)
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Points) != tc.points {
					b.Fatalf("%d points, want %d", len(rep.Points), tc.points)
				}
			}
		})
	}
}

// dayShape is between -1 and 1 over a day, lowest at 04:00.
func dayShape(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	x := (h - 4) / 24
	// A triangle is enough for a benchmark's data.
	if x < 0 {
		x++
	}
	if x < 0.5 {
		return 4*x - 1
	}
	return 3 - 4*x
}

// TestRecordingCost simulates a day of 10,000 listeners on 20 stations,
// with sessions of 30 minutes on average (480,000 sessions a day), through
// the recorder's API on a simulated clock: one sample a minute and a flush
// every 10 s, as in production. It reports the CPU time spent (recorder
// and SQLite, this process) and the database's growth. Run it with
//
//	ONAIR_PERF=1 go test -run RecordingCost -v ./stats/
func TestRecordingCost(t *testing.T) {
	if os.Getenv("ONAIR_PERF") == "" {
		t.Skip("set ONAIR_PERF=1 to measure the recording cost (a minute or two)")
	}
	ctx := context.Background()
	const (
		nStations = 20
		listeners = 10_000
		meanS     = 1800
	)
	slugs := make([]string, nStations)
	for i := range slugs {
		slugs[i] = "station-" + string(rune('a'+i))
	}
	f := newFixture(t, slugs...)
	for _, s := range slugs {
		f.live.Set(s, listeners/nStations*2/3, listeners/nStations-listeners/nStations*2/3)
	}
	r := &Recorder{Store: f.db, Live: f.live.Get, Now: f.clk.Now, SampleEvery: time.Minute}
	must(t, r.Start(ctx))

	// Listener k's sessions start at offsets staggered over meanS, so that
	// 10,000/1,800 ≈ 5.6 sessions end and start each second.
	type slot struct {
		id    uint64
		start time.Time
	}
	slots := make([]slot, listeners)
	var seq uint64
	begin := f.clk.Now()
	open := func(k int, at time.Time) {
		seq++
		slots[k] = slot{id: seq, start: at}
		r.Session(onair.ListenSession{ID: seq, Station: slugs[k%nStations], Transport: onair.TransportHTTP, UserAgent: "VLC/3.0.20 LibVLC/3.0.20", Start: at})
	}
	for k := range slots {
		open(k, begin)
		if k%1000 == 999 {
			must(t, r.Flush(ctx)) // they do not all come in the same instant
		}
	}
	must(t, r.Flush(ctx))
	sizeBefore := dirSize(t, filepath.Dir(f.path))
	cpuBefore := cpuTime()
	wallBefore := time.Now()
	sessions := 0
	for sec := 1; sec <= 86400; sec++ {
		f.clk.Add(time.Second)
		now := f.clk.Now()
		// The listeners whose turn it is this second leave and come back.
		for k := (sec * listeners / meanS) % listeners; k != ((sec+1)*listeners/meanS)%listeners; k = (k + 1) % listeners {
			s := slots[k]
			r.Session(onair.ListenSession{ID: s.id, Station: slugs[k%nStations], Transport: onair.TransportHTTP, UserAgent: "VLC/3.0.20 LibVLC/3.0.20", Start: s.start, End: now})
			sessions++
			open(k, now)
		}
		switch {
		case sec%60 == 0:
			must(t, r.SampleNow(ctx))
		case sec%10 == 0:
			must(t, r.Flush(ctx))
		}
	}
	cpu := cpuTime() - cpuBefore
	wall := time.Since(wallBefore)
	must(t, r.Close())
	if d := r.Dropped(); d != 0 {
		t.Errorf("%d events dropped", d)
	}
	must(t, f.db.Close())
	growth := dirSize(t, filepath.Dir(f.path)) - sizeBefore
	t.Logf("a simulated day at %d listeners on %d stations: %d sessions ended, %d samples per station",
		listeners, nStations, sessions, 1440)
	t.Logf("CPU %.1f s per day (%.3f%% of one core), wall %.1f s; database growth %.1f MB per day",
		cpu.Seconds(), 100*cpu.Seconds()/86400, wall.Seconds(), float64(growth)/1e6)
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
