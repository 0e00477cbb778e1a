package stats

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/store"
)

// live is a settable set of listener counts, as the relay would report.
type live struct {
	mu sync.Mutex
	n  map[string]onair.Listeners
}

func (l *live) Set(slug string, http, webrtc int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]onair.Listeners{}
	}
	l.n[slug] = onair.Listeners{HTTP: http, WebRTC: webrtc}
}

func (l *live) Get(slug string) (onair.Listeners, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, ok := l.n[slug]
	return n, ok
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type fixture struct {
	path     string // the database file
	db       *store.DB
	clk      *testutil.Clock
	live     *live
	stations map[string]int64
}

func newFixture(t *testing.T, slugs ...string) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "onair.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	u, err := db.CreateUser(ctx, "owner", "hash", onair.RoleOwner)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{path: path, db: db, clk: testutil.NewClock(t0), live: &live{}, stations: map[string]int64{}}
	for _, slug := range slugs {
		st := &onair.Station{Slug: slug, Name: slug, OwnerID: u.ID}
		if err := db.CreateStation(ctx, st); err != nil {
			t.Fatal(err)
		}
		f.stations[slug] = st.ID
	}
	return f
}

// recorder starts a recorder on the fixture, closed when the test ends.
func (f *fixture) recorder(t *testing.T) *Recorder {
	t.Helper()
	r := &Recorder{Store: f.db, Live: f.live.Get, Now: f.clk.Now, SampleEvery: time.Minute, Retention: 90 * 24 * time.Hour}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFamily(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome"},
		{"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "Edge"},
		{"Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", "Safari"},
		{"VLC/3.0.20 LibVLC/3.0.20", "VLC"},
		{"mpv 0.37.0", "mpv"},
		{"libmpv", "mpv"},
		{"Lavf/60.16.100", "ffmpeg"},
		{"curl/8.5.0", "curl"},
		{"", "other"},
		{"SomeRadioApp/1.0", "other"},
	} {
		if got := Family(tc.ua); got != tc.want {
			t.Errorf("Family(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

// A session open when the process dies is closed at the next start with
// its last known time, and counted in both raw and hourly reports.
func TestSessionsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "jazz")
	a := &Recorder{Store: f.db, Live: f.live.Get, Now: f.clk.Now}
	must(t, a.Start(ctx))
	a.Session(onair.ListenSession{ID: 1, Station: "jazz", Transport: onair.TransportHTTP, UserAgent: "VLC/3.0.20", Start: t0})
	a.Session(onair.ListenSession{ID: 2, Station: "jazz", Transport: onair.TransportWebRTC, UserAgent: "Firefox/128.0", Start: t0})
	must(t, a.Flush(ctx))
	f.clk.Add(6 * time.Minute)
	a.Session(onair.ListenSession{ID: 2, Station: "jazz", Transport: onair.TransportWebRTC, UserAgent: "Firefox/128.0", Start: t0, End: t0.Add(6 * time.Minute)})
	must(t, a.Flush(ctx)) // session 1 last seen at t0+6m
	// A session that starts and ends between two flushes is written whole.
	a.Session(onair.ListenSession{ID: 3, Station: "jazz", Transport: onair.TransportHTTP, Start: t0.Add(6 * time.Minute)})
	a.Session(onair.ListenSession{ID: 3, Station: "jazz", Transport: onair.TransportHTTP, Start: t0.Add(6 * time.Minute), End: t0.Add(8 * time.Minute)})
	must(t, a.Flush(ctx))
	f.clk.Add(30 * time.Minute)
	a.abandon = true // crash: session 1 is never closed
	must(t, a.Close())

	f.clk.Add(time.Hour)
	b := &Recorder{Store: f.db, Live: f.live.Get, Now: f.clk.Now}
	must(t, b.Start(ctx))
	defer b.Close()

	id := f.stations["jazz"]
	raw, err := b.Report(ctx, id, t0.Add(-time.Hour), t0.Add(2*time.Hour))
	must(t, err)
	if raw.Sessions != 3 || raw.AvgSessionS != (360+360+120)/3.0 {
		t.Errorf("raw: sessions %d avg %v, want 3 and 280 (crashed session closed at its last sign of life)", raw.Sessions, raw.AvgSessionS)
	}
	hourly, err := b.Report(ctx, id, t0.Add(-24*time.Hour), t0.Add(48*time.Hour))
	must(t, err)
	if hourly.StepS != 3600 || hourly.Sessions != 3 || hourly.AvgSessionS != 280 {
		t.Errorf("hourly: step %d sessions %d avg %v, want 3600, 3, 280", hourly.StepS, hourly.Sessions, hourly.AvgSessionS)
	}
	server, err := b.Report(ctx, store.ServerStats, t0.Add(-24*time.Hour), t0.Add(48*time.Hour))
	must(t, err)
	if server.Sessions != 3 {
		t.Errorf("server: sessions %d, want 3", server.Sessions)
	}
	// Starting again closes nothing more.
	n, err := f.db.CloseOpenSessions(ctx)
	if err != nil || n != 0 {
		t.Errorf("CloseOpenSessions after recovery = %d, %v; want 0", n, err)
	}
}

// A clean shutdown closes open sessions at the time of the shutdown.
func TestCloseEndsOpenSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "rock")
	r := &Recorder{Store: f.db, Live: f.live.Get, Now: f.clk.Now}
	must(t, r.Start(ctx))
	r.Session(onair.ListenSession{ID: 7, Station: "rock", Transport: onair.TransportHTTP, UserAgent: "mpv", Start: t0})
	f.clk.Add(90 * time.Second)
	must(t, r.Close())
	rep, err := r.Report(ctx, f.stations["rock"], t0.Add(-time.Hour), t0.Add(time.Hour))
	must(t, err)
	if rep.Sessions != 1 || rep.AvgSessionS != 90 {
		t.Errorf("sessions %d avg %v, want 1 and 90", rep.Sessions, rep.AvgSessionS)
	}
	if err := r.Flush(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
}

// Samples roll up into hours: raw and hourly reports agree on peak,
// listening hours, chat and likes; the server's figures are the sum of the
// stations'.
func TestRollUps(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "a", "b")
	r := f.recorder(t)
	// 3 hours of one sample a minute. Station a: http i%7, webrtc 2;
	// station b: 1 http listener. Peak of a at minute 13+...
	wantPeak, wantListenS := 0, 0
	var peakT time.Time
	for i := range 180 {
		f.clk.Add(time.Minute)
		f.live.Set("a", i%7, 2)
		f.live.Set("b", 1, 0)
		if i == 100 {
			f.live.Set("a", 40, 3)
		}
		if i%30 == 0 {
			r.Engagement("a", "chat")
			r.Engagement("a", "like")
			r.Engagement("a", "like")
		}
		n, _ := f.live.Get("a")
		if n.Total() > wantPeak {
			wantPeak, peakT = n.Total(), f.clk.Now()
		}
		wantListenS += n.Total() * 60
		must(t, r.SampleNow(ctx))
	}
	id := f.stations["a"]
	raw, err := r.Report(ctx, id, t0, t0.Add(4*time.Hour))
	must(t, err)
	if len(raw.Points) != 180 || raw.StepS != 60 {
		t.Fatalf("raw: %d points at %d s, want 180 at 60", len(raw.Points), raw.StepS)
	}
	if raw.Points[100].Listeners != 43 || raw.Points[100].HTTP != 40 || raw.Points[100].WebRTC != 3 {
		t.Errorf("raw point 100 = %+v, want 43 = 40 + 3", raw.Points[100])
	}
	for i := 1; i < len(raw.Points); i++ {
		if !raw.Points[i].T.After(raw.Points[i-1].T) {
			t.Fatalf("points out of order at %d", i)
		}
	}
	hourly, err := r.Report(ctx, id, t0.Add(-24*time.Hour), t0.Add(48*time.Hour))
	must(t, err)
	if len(hourly.Points) != 4 { // 10:01-10:59, 11, 12, 13:00
		t.Errorf("hourly: %d points, want 4", len(hourly.Points))
	}
	wantHours := float64(wantListenS) / 3600
	for _, rep := range []Report{raw, hourly} {
		if rep.Peak.Listeners != wantPeak || rep.Peak.T == nil || !rep.Peak.T.Equal(peakT) {
			t.Errorf("step %d: peak %+v, want %d at %s", rep.StepS, rep.Peak, wantPeak, peakT)
		}
		if rep.ListeningHours != round(wantHours, 2) {
			t.Errorf("step %d: listening hours %v, want %v", rep.StepS, rep.ListeningHours, round(wantHours, 2))
		}
		if rep.Chat != 6 || rep.Likes != 12 {
			t.Errorf("step %d: chat %d likes %d, want 6 and 12", rep.StepS, rep.Chat, rep.Likes)
		}
	}
	server, err := r.Report(ctx, store.ServerStats, t0, t0.Add(4*time.Hour))
	must(t, err)
	if got := server.Points[100]; got.Listeners != 44 || got.HTTP != 41 {
		t.Errorf("server point 100 = %+v, want 44 listeners, 41 http", got)
	}
}

// Samples and sessions older than the retention are purged; younger ones
// stay.
func TestRetentionPurge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "old")
	f.live.Set("old", 3, 0)
	r := &Recorder{Store: f.db, Live: f.live.Get, Now: f.clk.Now, Retention: 10 * 24 * time.Hour}
	must(t, r.Start(ctx))
	r.Session(onair.ListenSession{ID: 1, Station: "old", Transport: onair.TransportHTTP, Start: t0})
	r.Session(onair.ListenSession{ID: 1, Station: "old", Transport: onair.TransportHTTP, Start: t0, End: t0.Add(time.Minute)})
	must(t, r.SampleNow(ctx))
	f.clk.Add(9 * 24 * time.Hour)
	must(t, r.SampleNow(ctx))
	must(t, r.Close())

	f.clk.Add(2 * 24 * time.Hour) // the first sample is now 11 days old
	r2 := &Recorder{Store: f.db, Live: f.live.Get, Now: f.clk.Now, Retention: 10 * 24 * time.Hour}
	must(t, r2.Start(ctx)) // purges at start
	must(t, r2.Flush(ctx)) // and has done so once the loop answers
	defer r2.Close()
	id := f.stations["old"]
	old, err := r2.Report(ctx, id, t0.Add(-time.Hour), t0.Add(time.Hour))
	must(t, err)
	if len(old.Points) != 0 || old.Sessions != 0 {
		t.Errorf("after purge: %d points, %d sessions; want none", len(old.Points), old.Sessions)
	}
	hours, err := r2.Report(ctx, id, t0.Add(-24*time.Hour), t0.Add(20*24*time.Hour))
	must(t, err)
	if len(hours.Points) != 1 || hours.Sessions != 0 {
		t.Errorf("after purge: hourly %d points, %d sessions; want the recent hour only", len(hours.Points), hours.Sessions)
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	r := &Recorder{Now: func() time.Time { return now }, Retention: 90 * 24 * time.Hour}
	for _, tc := range []struct {
		name, from, to string
		wantFrom       time.Time
		wantTo         time.Time
		bad            bool
	}{
		{name: "defaults", wantFrom: now.Add(-24 * time.Hour), wantTo: now},
		{name: "from only", from: "2026-05-01T06:00:00Z", wantFrom: now.Add(-6 * time.Hour), wantTo: now},
		{name: "to only", to: "2026-04-30T12:00:00Z", wantFrom: now.Add(-48 * time.Hour), wantTo: now.Add(-24 * time.Hour)},
		{name: "offset", from: "2026-05-01T08:00:00+02:00", to: "2026-05-01T07:00:00Z", wantFrom: now.Add(-6 * time.Hour), wantTo: now.Add(-5 * time.Hour)},
		{name: "malformed", from: "yesterday", bad: true},
		{name: "date only", to: "2026-05-01", bad: true},
		{name: "reversed", from: "2026-05-01T10:00:00Z", to: "2026-05-01T09:00:00Z", bad: true},
		{name: "empty range", from: "2026-05-01T10:00:00Z", to: "2026-05-01T10:00:00Z", bad: true},
		{name: "beyond retention", from: "2025-12-01T00:00:00Z", bad: true},
		{name: "spans more than retention", from: "2026-03-01T00:00:00Z", to: "2026-07-01T00:00:00Z", bad: true},
		{name: "future end", from: "2026-04-30T00:00:00Z", to: "2026-05-02T00:00:00Z", wantFrom: now.Add(-36 * time.Hour), wantTo: now.Add(12 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			if tc.from != "" {
				q.Set("from", tc.from)
			}
			if tc.to != "" {
				q.Set("to", tc.to)
			}
			from, to, err := r.ParseRange(q)
			if tc.bad {
				if onair.ErrorCode(err) != onair.EInvalid {
					t.Fatalf("err = %v, want EInvalid", err)
				}
				return
			}
			if err != nil || !from.Equal(tc.wantFrom) || !to.Equal(tc.wantTo) {
				t.Fatalf("= %s, %s, %v; want %s, %s", from, to, err, tc.wantFrom, tc.wantTo)
			}
		})
	}
}

// ListenersAt reads the live count near now, the last sample otherwise.
func TestImpact(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "pop")
	r := f.recorder(t)
	id := f.stations["pop"]
	f.live.Set("pop", 5, 0)
	must(t, r.SampleNow(ctx)) // t0: 5
	start := f.clk.Now().Add(10 * time.Second)
	f.clk.Add(time.Minute)
	f.live.Set("pop", 6, 2)
	must(t, r.SampleNow(ctx)) // t0+1m: 8
	end := f.clk.Now().Add(10 * time.Second)
	n0, delta, ok := r.Impact(ctx, id, start, end)
	if !ok || n0 != 5 || delta != 3 {
		t.Errorf("Impact from samples = %d, %+d, %v; want 5, +3", n0, delta, ok)
	}
	f.live.Set("pop", 1, 1)
	if n, ok := r.ListenersAt(ctx, id, f.clk.Now()); !ok || n != 2 {
		t.Errorf("ListenersAt(now) = %d, %v; want the live 2", n, ok)
	}
	if _, ok := r.ListenersAt(ctx, id, t0.Add(-time.Hour)); ok {
		t.Error("ListenersAt before any sample is known")
	}
}
