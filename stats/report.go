package stats

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/store"
)

// rawSpan is the longest range answered from raw samples (2,880 points at
// one a minute); longer ones come from hourly roll-ups (720 points for 30
// days).
const rawSpan = 48 * time.Hour

// DefaultSpan is the range of a request that names neither end.
const DefaultSpan = 24 * time.Hour

// Report is a station's (or the server's) statistics over a range. The
// JSON names are the API's (web renders times in its own layout).
type Report struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	StepS  int       `json:"step_s"` // seconds between points
	Points []Point   `json:"points"`
	Peak   Peak      `json:"peak"`
	// Sessions that started in the range and have ended (ongoing ones
	// count once they end).
	Sessions       int64   `json:"sessions"`
	ListeningHours float64 `json:"listening_hours"`
	AvgSessionS    float64 `json:"avg_session_s"`
	Chat           int64   `json:"chat"`
	Likes          int64   `json:"likes"`
}

// Point is one sample, or an hour's average listeners with its chat and
// likes summed.
type Point struct {
	T         time.Time `json:"t"`
	Listeners int       `json:"listeners"`
	HTTP      int       `json:"http"`
	WebRTC    int       `json:"webrtc"`
	Chat      int       `json:"chat"`
	Likes     int       `json:"likes"`
}

// Peak is the most listeners at once in the range; T is null when no
// sample was taken.
type Peak struct {
	T         *time.Time `json:"t"`
	Listeners int        `json:"listeners"`
}

// ParseRange reads from and to (RFC 3339) from a query. Both missing is
// the last DefaultSpan; one missing is DefaultSpan before to, or from
// until now. Malformed, reversed, or reaching back beyond the retention
// is an onair EInvalid error that says which.
func (r *Recorder) ParseRange(q url.Values) (from, to time.Time, err error) {
	now := r.now().UTC()
	parse := func(name string) (time.Time, bool, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, false, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, false, onair.Errorf(onair.EInvalid, "%q must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", name, v)
		}
		return t.UTC(), true, nil
	}
	from, hasFrom, err := parse("from")
	if err != nil {
		return from, to, err
	}
	to, hasTo, err := parse("to")
	if err != nil {
		return from, to, err
	}
	switch {
	case !hasFrom && !hasTo:
		to = now
		from = to.Add(-DefaultSpan)
	case !hasFrom:
		from = to.Add(-DefaultSpan)
	case !hasTo:
		to = now
	}
	if !from.Before(to) {
		return from, to, onair.Errorf(onair.EInvalid, "\"from\" (%s) must be before \"to\" (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	ret := r.RetentionPeriod()
	if to.Sub(from) > ret {
		return from, to, onair.Errorf(onair.EInvalid, "\"from\" to \"to\" spans more than the %d days statistics are kept", int(ret.Hours()/24))
	}
	// A day of slack: a browser's clock may be ahead of the server's.
	if from.Before(now.Add(-ret - 24*time.Hour)) {
		return from, to, onair.Errorf(onair.EInvalid, "\"from\" is more than the %d days statistics are kept ago", int(ret.Hours()/24))
	}
	return from, to, nil
}

// Report returns the statistics of a station (or store.ServerStats) over
// [from, to): raw samples for ranges up to 48 h, hourly roll-ups beyond.
func (r *Recorder) Report(ctx context.Context, stationID int64, from, to time.Time) (Report, error) {
	from, to = from.UTC(), to.UTC()
	rep := Report{From: from, To: to, Points: []Point{}}
	var pts []store.StatPoint
	var tot store.StatTotals
	var err error
	if to.Sub(from) <= rawSpan {
		rep.StepS = int(r.Step() / time.Second)
		pts, tot, err = r.Store.StatSamples(ctx, stationID, from, to)
	} else {
		rep.StepS = 3600
		pts, tot, err = r.Store.StatHours(ctx, stationID, from.Truncate(time.Hour), to)
	}
	if err != nil {
		return Report{}, fmt.Errorf("stats: report: %w", err)
	}
	for _, p := range pts {
		rep.Points = append(rep.Points, Point{T: p.T, Listeners: p.HTTP + p.WebRTC, HTTP: p.HTTP, WebRTC: p.WebRTC, Chat: p.Chat, Likes: p.Likes})
	}
	if !tot.PeakT.IsZero() {
		t := tot.PeakT
		rep.Peak = Peak{T: &t, Listeners: tot.Peak}
	}
	rep.Sessions = tot.Sessions
	rep.ListeningHours = round(float64(tot.ListenS)/3600, 2)
	if tot.Sessions > 0 {
		rep.AvgSessionS = round(float64(tot.SessionS)/float64(tot.Sessions), 1)
	}
	rep.Chat, rep.Likes = tot.Chat, tot.Likes
	return rep, nil
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// ListenersAt returns a station's listeners at t: the live count when t is
// within two seconds of now and the station is on air, otherwise the
// last sample taken at most two steps before t. ok is false when neither
// is known. The history of played tracks calls it at each track's start
// and end for the "song impact" (see Impact). Stations created after
// Start are known from the next sample on.
func (r *Recorder) ListenersAt(ctx context.Context, stationID int64, t time.Time) (int, bool) {
	if d := r.now().Sub(t); d < 2*time.Second && d > -2*time.Second && r.Live != nil {
		if slug := r.slugOf(stationID); slug != "" {
			if n, live := r.Live(slug); live {
				return n.Total(), true
			}
		}
	}
	n, ok, err := r.Store.StatListenersAt(ctx, stationID, t, 2*r.Step())
	if err != nil {
		r.logger().Warn("statistics: listeners at", "station", stationID, "err", err)
		return 0, false
	}
	return n, ok
}

// Impact is a track's listener change: the listeners when it started, and
// those when it ended minus those when it started. ok is false when either
// end is unknown.
func (r *Recorder) Impact(ctx context.Context, stationID int64, start, end time.Time) (listenersStart, delta int, ok bool) {
	a, okA := r.ListenersAt(ctx, stationID, start)
	b, okB := r.ListenersAt(ctx, stationID, end)
	if !okA || !okB {
		return 0, 0, false
	}
	return a, b - a, true
}
