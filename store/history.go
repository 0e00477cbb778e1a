package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/onairfm/onair"
)

// HistoryKeep is how many history rows AddHistory keeps per station: about
// three days of four-minute tracks, far more than any page shows, while
// the table stays bounded.
const HistoryKeep = 1000

// historySources are the sources a history row may name.
var historySources = map[string]bool{
	onair.SourcePlaylist: true, onair.SourceJingle: true, onair.SourceLive: true,
}

// AddHistory records that the station slug started playing e, then drops
// the station's rows beyond the newest HistoryKeep. An empty Source means
// SourcePlaylist; a TrackID of 0 (a live segment), or of a track deleted
// meanwhile, is stored as no track.
func (db *DB) AddHistory(ctx context.Context, slug string, e onair.HistoryEntry) error {
	if e.Source == "" {
		e.Source = onair.SourcePlaylist
	}
	if !historySources[e.Source] {
		return fmt.Errorf("store: add history of %q: %w", slug, onair.Errorf(onair.EInvalid, "unknown source %q", e.Source))
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		stationID, err := stationIDTx(ctx, tx, slug)
		if err != nil {
			return err
		}
		var track any // NULL for live, or a track that is gone
		if e.TrackID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tracks WHERE id = ? AND station_id = ?`,
				e.TrackID, stationID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				track = e.TrackID
			}
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO history (station_id, track_id, title, artist, started_at, source) VALUES (?, ?, ?, ?, ?, ?)`,
			stationID, track, e.Title, e.Artist, e.StartedAt.UnixMilli(), e.Source); err != nil {
			return err
		}
		return pruneHistory(ctx, tx, stationID, HistoryKeep)
	})
	if err != nil {
		return fmt.Errorf("store: add history of %q: %w", slug, err)
	}
	return nil
}

// pruneHistory keeps the newest keep rows of a station. The index on
// (station_id, started_at) finds the cut-off without a scan of the table.
func pruneHistory(ctx context.Context, tx *sql.Tx, stationID int64, keep int) error {
	_, err := tx.ExecContext(ctx,
		`DELETE FROM history WHERE station_id = ? AND id NOT IN (
		   SELECT id FROM history WHERE station_id = ? ORDER BY started_at DESC, id DESC LIMIT ?)`,
		stationID, stationID, keep)
	return err
}

// History lists up to limit things the station played, newest first.
func (db *DB) History(ctx context.Context, stationID int64, limit int) ([]onair.HistoryEntry, error) {
	if limit <= 0 {
		return []onair.HistoryEntry{}, nil
	}
	rows, err := db.read.QueryContext(ctx,
		`SELECT COALESCE(track_id, 0), title, artist, started_at, source FROM history
		  WHERE station_id = ? ORDER BY started_at DESC, id DESC LIMIT ?`, stationID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: history of station %d: %w", stationID, err)
	}
	defer rows.Close()
	hs := []onair.HistoryEntry{}
	for rows.Next() {
		var (
			h  onair.HistoryEntry
			at int64
		)
		if err := rows.Scan(&h.TrackID, &h.Title, &h.Artist, &at, &h.Source); err != nil {
			return nil, fmt.Errorf("store: history of station %d: %w", stationID, err)
		}
		h.StartedAt = fromMillis(at)
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: history of station %d: %w", stationID, err)
	}
	return hs, nil
}
