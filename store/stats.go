package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ServerStats is the station ID under which the whole server's statistics
// are kept, next to each station's.
const ServerStats int64 = 0

// StatSample is one listener-count sample of a station (or of the server,
// ServerStats).
type StatSample struct {
	StationID int64
	T         time.Time     // kept to the second
	Step      time.Duration // how long the sample stands for
	HTTP      int
	WebRTC    int
	Chat      int // chat messages since the previous sample
	Likes     int // likes since the previous sample
}

// StatSession is one listening session as stored. ID is the row's, set by
// RecordStats when it inserts the session.
type StatSession struct {
	ID        int64
	StationID int64
	Transport string
	Agent     string
	Start     time.Time
	End       time.Time // zero while open
}

// StatsBatch is what the recorder writes at once, in one transaction: a
// transaction per listener event would cost a WAL fsync each.
type StatsBatch struct {
	Samples []StatSample
	// Opened are sessions to insert; when End is set they are complete
	// (started and ended within the batch). RecordStats sets their ID.
	Opened []*StatSession
	// Closed are sessions inserted earlier (ID set) that have ended.
	Closed []StatSession
	// Seen is the time to record as the last sign of life of every
	// session still open; zero leaves them.
	Seen time.Time
}

// RecordStats writes a batch: samples with their hourly roll-ups, new and
// ended sessions (ended ones are added to the roll-up of the hour they
// started, and of the server's), and the last-seen time of open sessions.
func (db *DB) RecordStats(ctx context.Context, b StatsBatch) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for _, s := range b.Samples {
			if err := insertSample(ctx, tx, s); err != nil {
				return err
			}
		}
		for _, s := range b.Opened {
			if err := insertSession(ctx, tx, s); err != nil {
				return err
			}
			if !s.End.IsZero() {
				if err := rollUpSession(ctx, tx, *s); err != nil {
					return err
				}
			}
		}
		for _, s := range b.Closed {
			if _, err := tx.ExecContext(ctx, `UPDATE stats_sessions SET end_at = ?, last_seen = ? WHERE id = ? AND end_at IS NULL`,
				s.End.Unix(), s.End.Unix(), s.ID); err != nil {
				return fmt.Errorf("close session: %w", err)
			}
			if err := rollUpSession(ctx, tx, s); err != nil {
				return err
			}
		}
		if !b.Seen.IsZero() {
			if _, err := tx.ExecContext(ctx, `UPDATE stats_sessions SET last_seen = ? WHERE end_at IS NULL`, b.Seen.Unix()); err != nil {
				return fmt.Errorf("refresh open sessions: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record stats: %w", err)
	}
	return nil
}

func insertSample(ctx context.Context, tx *sql.Tx, s StatSample) error {
	t, step := s.T.Unix(), int64(s.Step/time.Second)
	total := s.HTTP + s.WebRTC
	// A second sample in the same second replaces nothing: the first
	// stands.
	res, err := tx.ExecContext(ctx, `INSERT INTO stats_samples (station_id, t, step, http, webrtc, chat, likes)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		s.StationID, t, step, s.HTTP, s.WebRTC, s.Chat, s.Likes)
	if err != nil {
		return fmt.Errorf("insert sample: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	hour := t - t%3600
	if _, err := tx.ExecContext(ctx, `INSERT INTO stats_hourly
		(station_id, hour, samples, sum_http, sum_webrtc, peak, peak_t, listen_s, chat, likes)
		VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (station_id, hour) DO UPDATE SET
			samples = samples + 1,
			sum_http = sum_http + excluded.sum_http,
			sum_webrtc = sum_webrtc + excluded.sum_webrtc,
			peak_t = CASE WHEN excluded.peak > peak THEN excluded.peak_t ELSE peak_t END,
			peak = max(peak, excluded.peak),
			listen_s = listen_s + excluded.listen_s,
			chat = chat + excluded.chat,
			likes = likes + excluded.likes`,
		s.StationID, hour, s.HTTP, s.WebRTC, total, t, int64(total)*step, s.Chat, s.Likes); err != nil {
		return fmt.Errorf("roll up sample: %w", err)
	}
	return nil
}

func insertSession(ctx context.Context, tx *sql.Tx, s *StatSession) error {
	var end any
	last := s.Start.Unix()
	if !s.End.IsZero() {
		end, last = s.End.Unix(), s.End.Unix()
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO stats_sessions (station_id, transport, agent, start_at, end_at, last_seen)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		s.StationID, s.Transport, s.Agent, s.Start.Unix(), end, last).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// rollUpSession adds an ended session to its station's and the server's
// hour.
func rollUpSession(ctx context.Context, tx *sql.Tx, s StatSession) error {
	start := s.Start.Unix()
	hour := start - start%3600
	d := max(0, s.End.Unix()-start)
	for _, id := range []int64{s.StationID, ServerStats} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO stats_hourly (station_id, hour, sessions, session_s)
			VALUES (?, ?, 1, ?)
			ON CONFLICT (station_id, hour) DO UPDATE SET
				sessions = sessions + 1, session_s = session_s + excluded.session_s`,
			id, hour, d); err != nil {
			return fmt.Errorf("roll up session: %w", err)
		}
	}
	return nil
}

// CloseOpenSessions ends every session still open, at its last-seen time:
// at start-up these are the sessions of a process that did not stop
// cleanly. It returns how many it closed.
func (db *DB) CloseOpenSessions(ctx context.Context) (int, error) {
	var n int
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, station_id, start_at, last_seen FROM stats_sessions WHERE end_at IS NULL`)
		if err != nil {
			return fmt.Errorf("list open sessions: %w", err)
		}
		var open []StatSession
		for rows.Next() {
			var s StatSession
			var start, last int64
			if err := rows.Scan(&s.ID, &s.StationID, &start, &last); err != nil {
				_ = rows.Close()
				return fmt.Errorf("scan open session: %w", err)
			}
			s.Start, s.End = time.Unix(start, 0).UTC(), time.Unix(last, 0).UTC()
			open = append(open, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list open sessions: %w", err)
		}
		for _, s := range open {
			if _, err := tx.ExecContext(ctx, `UPDATE stats_sessions SET end_at = last_seen WHERE id = ?`, s.ID); err != nil {
				return fmt.Errorf("close session: %w", err)
			}
			if err := rollUpSession(ctx, tx, s); err != nil {
				return err
			}
		}
		n = len(open)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: close open sessions: %w", err)
	}
	return n, nil
}

// PurgeStats deletes samples, roll-ups and sessions older than before. It
// returns how many rows went.
func (db *DB) PurgeStats(ctx context.Context, before time.Time) (int64, error) {
	t := before.Unix()
	var total int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM stats_samples WHERE t < ?`,
			`DELETE FROM stats_hourly WHERE hour < ? - 3599`,
			`DELETE FROM stats_sessions WHERE start_at < ? AND end_at IS NOT NULL`,
		} {
			res, err := tx.ExecContext(ctx, q, t)
			if err != nil {
				return fmt.Errorf("purge: %w", err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge stats: %w", err)
	}
	return total, nil
}

// StatPoint is one point of a listener chart: a sample, or an hour's
// average (listeners, http, webrtc) and sum (chat, likes).
type StatPoint struct {
	T      time.Time
	HTTP   int
	WebRTC int
	Chat   int
	Likes  int
}

// StatTotals sums a range.
type StatTotals struct {
	Peak       int
	PeakT      time.Time // zero when nobody listened
	Sessions   int64
	SessionS   int64 // seconds of the sessions counted in Sessions
	ListenS    int64 // listener-seconds
	Chat       int64
	Likes      int64
	HasSamples bool
}

// StatSamples returns the raw samples of a station in [from, to], in time
// order, with the range's totals. Sessions are those that started in the
// range and have ended, as in the roll-ups.
func (db *DB) StatSamples(ctx context.Context, stationID int64, from, to time.Time) ([]StatPoint, StatTotals, error) {
	var pts []StatPoint
	var tot StatTotals
	err := db.withReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t, step, http, webrtc, chat, likes FROM stats_samples
			WHERE station_id = ? AND t >= ? AND t <= ? ORDER BY t`, stationID, from.Unix(), to.Unix())
		if err != nil {
			return fmt.Errorf("query samples: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var t, step int64
			var p StatPoint
			if err := rows.Scan(&t, &step, &p.HTTP, &p.WebRTC, &p.Chat, &p.Likes); err != nil {
				return fmt.Errorf("scan sample: %w", err)
			}
			p.T = time.Unix(t, 0).UTC()
			pts = append(pts, p)
			tot.add(p, int64(p.HTTP+p.WebRTC)*step)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("query samples: %w", err)
		}
		where, args := `station_id = ? AND `, []any{stationID}
		if stationID == ServerStats {
			where, args = ``, nil
		}
		args = append(args, from.Unix(), to.Unix())
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(end_at - start_at), 0)
			FROM stats_sessions WHERE `+where+`start_at >= ? AND start_at < ? AND end_at IS NOT NULL`, args...).Scan(&tot.Sessions, &tot.SessionS)
		if err != nil {
			return fmt.Errorf("count sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, StatTotals{}, fmt.Errorf("store: stat samples: %w", err)
	}
	return pts, tot, nil
}

func (tot *StatTotals) add(p StatPoint, listenS int64) {
	tot.HasSamples = true
	if n := p.HTTP + p.WebRTC; n > tot.Peak || tot.PeakT.IsZero() {
		tot.Peak, tot.PeakT = n, p.T
	}
	tot.ListenS += listenS
	tot.Chat += int64(p.Chat)
	tot.Likes += int64(p.Likes)
}

// StatHours returns the hourly roll-ups of a station for the hours that
// start in [from, to), in time order, with the range's totals (sessions
// that ended, by the hour they started). Hours with sessions but no
// samples give no point.
func (db *DB) StatHours(ctx context.Context, stationID int64, from, to time.Time) ([]StatPoint, StatTotals, error) {
	var pts []StatPoint
	var tot StatTotals
	err := db.withReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT hour, samples, sum_http, sum_webrtc, peak, peak_t, listen_s, chat, likes, sessions, session_s
			FROM stats_hourly WHERE station_id = ? AND hour >= ? AND hour < ? ORDER BY hour`, stationID, from.Unix(), to.Unix())
		if err != nil {
			return fmt.Errorf("query hours: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var hour, samples, sumHTTP, sumRTC, peak, peakT, listenS, chat, likes, sessions, sessionS int64
			if err := rows.Scan(&hour, &samples, &sumHTTP, &sumRTC, &peak, &peakT, &listenS, &chat, &likes, &sessions, &sessionS); err != nil {
				return fmt.Errorf("scan hour: %w", err)
			}
			tot.Sessions += sessions
			tot.SessionS += sessionS
			if samples == 0 {
				continue
			}
			p := StatPoint{
				T:      time.Unix(hour, 0).UTC(),
				HTTP:   int((sumHTTP + samples/2) / samples),
				WebRTC: int((sumRTC + samples/2) / samples),
				Chat:   int(chat),
				Likes:  int(likes),
			}
			pts = append(pts, p)
			tot.HasSamples = true
			if int(peak) > tot.Peak || tot.PeakT.IsZero() {
				tot.Peak, tot.PeakT = int(peak), time.Unix(peakT, 0).UTC()
			}
			tot.ListenS += listenS
			tot.Chat += chat
			tot.Likes += likes
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("query hours: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, StatTotals{}, fmt.Errorf("store: stat hours: %w", err)
	}
	return pts, tot, nil
}

// StatListenersAt returns the station's listeners in the last sample at or
// before t, if one was taken within maxAge of t.
func (db *DB) StatListenersAt(ctx context.Context, stationID int64, t time.Time, maxAge time.Duration) (int, bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT http + webrtc FROM stats_samples
		WHERE station_id = ? AND t <= ? AND t >= ? ORDER BY t DESC LIMIT 1`,
		stationID, t.Unix(), t.Add(-maxAge).Unix()).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("store: listeners at %s: %w", t.Format(time.RFC3339), err)
	}
	return n, true, nil
}
