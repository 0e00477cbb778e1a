package stats

import (
	"context"
	"time"

	"github.com/onairfm/onair/store"
)

// maxPending bounds the sessions kept in memory while the store fails, so
// a broken disk cannot grow the process without end.
const maxPending = 100_000

// loop is the recorder's one goroutine and all the state it owns.
type loop struct {
	r *Recorder
	// open are the sessions open now, by relay session ID. A session with
	// row ID 0 is not in the store yet and sits in opened.
	open map[uint64]*store.StatSession
	// ended are sessions whose end came before their start (two pion
	// goroutines); their start is then ignored. Cleared at each flush.
	ended   map[uint64]struct{}
	opened  []*store.StatSession
	closed  []store.StatSession
	engaged map[string]*engagement
	ids     map[string]int64 // station slug → ID
}

type engagement struct{ chat, likes int }

func (l *loop) run(stop context.Context) {
	r := l.r
	// Work already taken on is finished after a stop: an event handled
	// while the stop comes must still be written.
	ctx := context.WithoutCancel(stop)
	sample := time.NewTicker(r.Step())
	defer sample.Stop()
	flush := time.NewTicker(r.flushEvery())
	defer flush.Stop()
	purge := time.NewTicker(purgeEvery)
	defer purge.Stop()
	l.purge(ctx)
	for {
		select {
		case <-stop.Done():
			if r.abandon {
				return
			}
			l.drain()
			l.shutdown()
			return
		case ev := <-r.events:
			l.handle(ctx, ev)
		case req := <-r.reqs:
			// What was queued before the request is part of it.
			l.drain()
			if req.sample {
				l.sample(ctx)
			} else {
				l.flush(ctx, nil)
			}
			close(req.done)
		case <-sample.C:
			l.sample(ctx)
		case <-flush.C:
			l.flush(ctx, nil)
		case <-purge.C:
			l.purge(ctx)
		}
	}
}

// drain handles the events queued before Close.
func (l *loop) drain() {
	for {
		select {
		case ev := <-l.r.events:
			l.handle(context.Background(), ev)
		default:
			return
		}
	}
}

// shutdown closes every open session now and writes what is pending.
func (l *loop) shutdown() {
	now := l.r.now()
	for id, s := range l.open {
		l.end(s, now)
		delete(l.open, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l.flush(ctx, nil)
}

func (l *loop) handle(ctx context.Context, ev event) {
	id, ok := l.stationID(ctx, ev.station)
	if !ok {
		return
	}
	if ev.engagement != "" {
		e := l.engaged[ev.station]
		if e == nil {
			e = &engagement{}
			l.engaged[ev.station] = e
		}
		if ev.engagement == "chat" {
			e.chat++
		} else {
			e.likes++
		}
		return
	}
	ls := ev.session
	if ls.End.IsZero() {
		if _, gone := l.ended[ls.ID]; gone {
			delete(l.ended, ls.ID)
			return
		}
		s := &store.StatSession{StationID: id, Transport: ls.Transport, Agent: Family(ls.UserAgent), Start: ls.Start}
		l.open[ls.ID] = s
		l.addOpened(s)
		return
	}
	s := l.open[ls.ID]
	if s == nil {
		// The end overtook the start: record the whole session now.
		l.ended[ls.ID] = struct{}{}
		l.addOpened(&store.StatSession{StationID: id, Transport: ls.Transport, Agent: Family(ls.UserAgent), Start: ls.Start, End: ls.End})
		return
	}
	delete(l.open, ls.ID)
	l.end(s, ls.End)
}

// end ends an open session: a session not yet written is written whole.
func (l *loop) end(s *store.StatSession, at time.Time) {
	s.End = at
	if s.ID != 0 {
		l.closed = append(l.closed, *s)
	}
}

func (l *loop) addOpened(s *store.StatSession) {
	if len(l.opened) >= maxPending {
		l.r.dropped.Add(1)
		return
	}
	l.opened = append(l.opened, s)
}

// stationID resolves a slug, from the cache or the store.
func (l *loop) stationID(ctx context.Context, slug string) (int64, bool) {
	if id, ok := l.ids[slug]; ok {
		return id, true
	}
	st, err := l.r.Store.StationBySlug(ctx, slug)
	if err != nil {
		l.r.logger().Debug("statistics for an unknown station", "station", slug, "err", err)
		return 0, false
	}
	l.ids[slug] = st.ID
	l.r.rememberSlug(st.ID, slug)
	return st.ID, true
}

// sample takes one sample of every live station and of the server, and
// writes it with the pending sessions.
func (l *loop) sample(ctx context.Context) {
	r := l.r
	stations, err := r.Store.Stations(ctx)
	if err != nil {
		r.logger().Warn("statistics: list stations", "err", err)
		return
	}
	now := r.now().Truncate(time.Second)
	step := r.Step()
	server := store.StatSample{StationID: store.ServerStats, T: now, Step: step}
	some := false
	var samples []store.StatSample
	for _, st := range stations {
		l.ids[st.Slug] = st.ID
		r.rememberSlug(st.ID, st.Slug)
		n, live := r.Live(st.Slug)
		e := l.engaged[st.Slug]
		if !live && e == nil {
			continue
		}
		s := store.StatSample{StationID: st.ID, T: now, Step: step, HTTP: n.HTTP, WebRTC: n.WebRTC}
		if e != nil {
			s.Chat, s.Likes = e.chat, e.likes
		}
		samples = append(samples, s)
		server.HTTP += s.HTTP
		server.WebRTC += s.WebRTC
		server.Chat += s.Chat
		server.Likes += s.Likes
		some = true
	}
	clear(l.engaged)
	if some {
		samples = append(samples, server)
	}
	l.flush(ctx, samples)
}

// flush writes samples and the sessions that opened or closed since the
// last flush, and refreshes the last-seen time of those still open. What
// fails to be written is kept for the next flush, except samples.
func (l *loop) flush(ctx context.Context, samples []store.StatSample) {
	if len(samples) == 0 && len(l.opened) == 0 && len(l.closed) == 0 && len(l.open) == 0 {
		return
	}
	b := store.StatsBatch{Samples: samples, Opened: l.opened, Closed: l.closed}
	if len(l.open) > 0 {
		b.Seen = l.r.now()
	}
	if err := l.r.Store.RecordStats(ctx, b); err != nil {
		l.r.logger().Warn("statistics not written", "err", err)
		// Rows inserted by the failed transaction were rolled back.
		for _, s := range l.opened {
			s.ID = 0
		}
		return
	}
	l.opened, l.closed = nil, nil
	clear(l.ended)
}

// purge deletes what is older than the retention.
func (l *loop) purge(ctx context.Context) {
	n, err := l.r.Store.PurgeStats(ctx, l.r.now().Add(-l.r.RetentionPeriod()))
	if err != nil {
		l.r.logger().Warn("statistics: purge", "err", err)
		return
	}
	if n > 0 {
		l.r.logger().Debug("statistics purged", "rows", n)
	}
}
