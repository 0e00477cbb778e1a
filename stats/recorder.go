// Package stats records what happened on air: listener counts sampled at a
// fixed step, listening sessions (transport and client family, never the
// address), chat messages and likes, kept for a retention period with
// hourly roll-ups; and it answers the charts and figures drawn from them.
package stats

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/store"
)

// Defaults of the Recorder's tuning fields.
const (
	DefaultSampleEvery = time.Minute
	DefaultRetention   = 90 * 24 * time.Hour
	// DefaultFlushEvery is how often sessions are written: a crash loses
	// at most this much of the sessions' ends.
	DefaultFlushEvery = 10 * time.Second
	// purgeEvery is how often samples past retention are deleted.
	purgeEvery = time.Hour
	// queueSize bounds the events waiting for the recorder; beyond it they
	// are dropped and counted, never waited for: they come from the
	// relay's and the hub's goroutines. 32,768 events (about 3 MB) hold
	// 10,000 listeners reconnecting at once after a restart with room.
	queueSize = 32768
)

// Recorder samples live stations and keeps listening sessions and
// engagement in the store. Fill the fields, call Start once, hand Session
// to relay.Relay.OnSession and Engagement to signalling.Hub.OnEngagement,
// and Close at shutdown (after the relay, so its last sessions are in).
type Recorder struct {
	Store *store.DB
	// Live returns a station's listeners now and whether it is on air (the
	// relay's Status).
	Live func(slug string) (onair.Listeners, bool)

	SampleEvery time.Duration // default DefaultSampleEvery
	Retention   time.Duration // default DefaultRetention
	FlushEvery  time.Duration // default DefaultFlushEvery, at most SampleEvery
	Now         func() time.Time
	Logger      *slog.Logger

	events  chan event
	reqs    chan request
	dropped atomic.Int64
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	started bool
	closed  bool
	// abandon makes Close stop without closing or writing anything, as a
	// crash would: for the tests of recovery.
	abandon bool

	// slugs maps station IDs to slugs for ListenersAt; guarded by mu.
	slugs map[int64]string
}

// event is one thing reported to the recorder: a session start or end, or
// a chat message or like.
type event struct {
	session    onair.ListenSession
	station    string
	engagement string // "chat" or "like"; empty for a session
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Recorder) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Step is the sampling step.
func (r *Recorder) Step() time.Duration {
	if r.SampleEvery > 0 {
		return r.SampleEvery.Truncate(time.Second)
	}
	return DefaultSampleEvery
}

// RetentionPeriod is how long statistics are kept.
func (r *Recorder) RetentionPeriod() time.Duration {
	if r.Retention > 0 {
		return r.Retention
	}
	return DefaultRetention
}

func (r *Recorder) flushEvery() time.Duration {
	f := r.FlushEvery
	if f <= 0 {
		f = DefaultFlushEvery
	}
	return min(f, r.Step())
}

// Start closes the sessions a crash left open at their last known time,
// purges what is past retention and starts recording.
func (r *Recorder) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.started {
		return nil
	}
	n, err := r.Store.CloseOpenSessions(ctx)
	if err != nil {
		return fmt.Errorf("stats: start: %w", err)
	}
	if n > 0 {
		r.logger().Info("closed listening sessions left open by the last run", "sessions", n)
	}
	// ListenersAt needs the slugs of station IDs before the first sample.
	stations, err := r.Store.Stations(ctx)
	if err != nil {
		return fmt.Errorf("stats: start: %w", err)
	}
	r.slugs = make(map[int64]string, len(stations))
	for _, st := range stations {
		r.slugs[st.ID] = st.Slug
	}
	r.events = make(chan event, queueSize)
	r.reqs = make(chan request)
	r.done = make(chan struct{})
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.started = true
	l := &loop{r: r, open: map[uint64]*store.StatSession{}, ended: map[uint64]struct{}{},
		engaged: map[string]*engagement{}, ids: map[string]int64{}}
	go func() {
		defer close(r.done)
		l.run(runCtx)
	}()
	return nil
}

// Close stops recording: events still queued are written, and sessions
// still open are closed now.
func (r *Recorder) Close() error {
	r.mu.Lock()
	started, closed := r.started, r.closed
	r.closed = true
	r.mu.Unlock()
	if !started || closed {
		return nil
	}
	r.cancel()
	<-r.done
	return nil
}

// request asks the loop to do something now and say when it is done.
type request struct {
	sample bool // take a sample (and flush); otherwise only flush
	done   chan struct{}
}

// Flush writes what has been reported so far (sessions, and the
// last-seen time of open sessions) and returns when it is written.
func (r *Recorder) Flush(ctx context.Context) error { return r.ask(ctx, false) }

// SampleNow takes a sample now, as the ticker does, and writes it with
// everything pending. Benchmarks and tests use it instead of waiting for
// the ticker.
func (r *Recorder) SampleNow(ctx context.Context) error { return r.ask(ctx, true) }

func (r *Recorder) ask(ctx context.Context, sample bool) error {
	r.mu.Lock()
	ok := r.started && !r.closed
	reqs, done := r.reqs, r.done
	r.mu.Unlock()
	if !ok {
		return ErrClosed
	}
	req := request{sample: sample, done: make(chan struct{})}
	select {
	case reqs <- req:
	case <-done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Session records a listening session's start or end (relay.Relay's
// OnSession). It never blocks.
func (r *Recorder) Session(ls onair.ListenSession) {
	r.queue(event{session: ls, station: ls.Station})
}

// Engagement counts a chat message ("chat") or a like ("like") on a
// station (signalling.Hub's OnEngagement). It never blocks.
func (r *Recorder) Engagement(station, kind string) {
	if kind != "chat" && kind != "like" {
		return
	}
	r.queue(event{station: station, engagement: kind})
}

func (r *Recorder) queue(ev event) {
	r.mu.Lock()
	ch := r.events
	ok := r.started && !r.closed
	r.mu.Unlock()
	if !ok {
		return
	}
	select {
	case ch <- ev:
	default:
		if r.dropped.Add(1)%1000 == 1 {
			r.logger().Warn("statistics queue full; events dropped", "dropped", r.dropped.Load())
		}
	}
}

// Dropped is how many events were dropped because the queue was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

func (r *Recorder) rememberSlug(id int64, slug string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.slugs == nil {
		r.slugs = map[int64]string{}
	}
	r.slugs[id] = slug
}

func (r *Recorder) slugOf(id int64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.slugs[id]
}
