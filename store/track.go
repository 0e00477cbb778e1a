package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/onairfm/onair"
)

// trackSelect reads a track; scanTrack expects exactly these columns.
const trackSelect = `SELECT id, station_id, title, artist, album, duration_ms, bitrate, sample_rate,
	channels, filename, path, size, position, created_at FROM tracks`

// AddTrack appends t to the end of its station's play order and fills its
// ID, Position and CreatedAt (Duration is kept to the millisecond). The position is computed inside the INSERT,
// so two uploads at once cannot take the same place.
func (db *DB) AddTrack(ctx context.Context, t *onair.Track) error {
	switch {
	case t == nil:
		return fmt.Errorf("store: add track: %w", onair.Errorf(onair.EInvalid, "no track given"))
	case t.Path == "":
		return fmt.Errorf("store: add track: %w", onair.Errorf(onair.EInvalid, "track path is required"))
	case t.Duration < 0 || t.Bitrate < 0 || t.SampleRate < 0 || t.Channels < 0 || t.Size < 0:
		return fmt.Errorf("store: add track %s: %w", t.Path, onair.Errorf(onair.EInvalid, "track measures must not be negative"))
	}
	created := db.now()
	var pos int
	err := db.write.QueryRowContext(ctx,
		`INSERT INTO tracks (station_id, title, artist, album, duration_ms, bitrate, sample_rate,
		                     channels, filename, path, size, position, created_at)
		 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(position) + 1, 0), ?
		   FROM tracks WHERE station_id = ?
		 RETURNING id, position`,
		t.StationID, t.Title, t.Artist, t.Album, t.Duration.Milliseconds(), t.Bitrate, t.SampleRate,
		t.Channels, t.Filename, t.Path, t.Size, created.UnixMilli(), t.StationID).Scan(&t.ID, &pos)
	switch {
	case isForeignKey(err):
		err = onair.Errorf(onair.ENotFound, "station %d not found", t.StationID)
	case isUnique(err):
		err = onair.Errorf(onair.EConflict, "a track with path %q exists", t.Path)
	}
	if err != nil {
		t.ID = 0
		return fmt.Errorf("store: add track %s: %w", t.Path, err)
	}
	t.Position = pos
	t.CreatedAt = created
	t.Duration = t.Duration.Truncate(time.Millisecond) // as stored, so a reread compares equal
	return nil
}

// Tracks lists a station's tracks in play order.
func (db *DB) Tracks(ctx context.Context, stationID int64) ([]onair.Track, error) {
	var ts []onair.Track
	err := db.withReadTx(ctx, func(tx *sql.Tx) error {
		if err := stationExists(ctx, tx, stationID); err != nil {
			return err
		}
		var err error
		ts, err = queryTracks(ctx, tx, stationID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: tracks of station %d: %w", stationID, err)
	}
	return ts, nil
}

// TrackByID finds one track.
func (db *DB) TrackByID(ctx context.Context, id int64) (onair.Track, error) {
	t, err := scanTrack(db.read.QueryRowContext(ctx, trackSelect+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = onair.Errorf(onair.ENotFound, "track %d not found", id)
	}
	if err != nil {
		return onair.Track{}, fmt.Errorf("store: track %d: %w", id, err)
	}
	return t, nil
}

// DeleteTrack removes a track from its station and closes the gap in the
// play order. It returns the deleted track so the caller can remove its
// file. A station whose current track it was forgets it (the schema sets
// current_track_id to NULL).
func (db *DB) DeleteTrack(ctx context.Context, stationID, trackID int64) (onair.Track, error) {
	var t onair.Track
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTrack(tx.QueryRowContext(ctx,
			trackSelect+` WHERE id = ? AND station_id = ?`, trackID, stationID))
		if errors.Is(err, sql.ErrNoRows) {
			return onair.Errorf(onair.ENotFound, "track %d not found on station %d", trackID, stationID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tracks WHERE id = ?`, trackID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE tracks SET position = position - 1 WHERE station_id = ? AND position > ?`,
			stationID, t.Position)
		return err
	})
	if err != nil {
		return onair.Track{}, fmt.Errorf("store: delete track %d: %w", trackID, err)
	}
	return t, nil
}

// SetOrder makes ids the station's play order. ids must name every track
// of the station exactly once; otherwise it is EInvalid, says which id is
// wrong, and the order stays as it was.
func (db *DB) SetOrder(ctx context.Context, stationID int64, ids []int64) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if err := stationExists(ctx, tx, stationID); err != nil {
			return err
		}
		current, err := queryTracks(ctx, tx, stationID)
		if err != nil {
			return err
		}
		if err := checkPermutation(current, ids); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `UPDATE tracks SET position = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, id := range ids {
			if _, err := stmt.ExecContext(ctx, i, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set order of station %d: %w", stationID, err)
	}
	return nil
}

// checkPermutation reports the first way ids fails to be an ordering of
// exactly the tracks in current.
func checkPermutation(current []onair.Track, ids []int64) error {
	want := make(map[int64]bool, len(current))
	for _, t := range current {
		want[t.ID] = true
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		switch {
		case !want[id]:
			return onair.Errorf(onair.EInvalid, "track %d is not on this station", id)
		case seen[id]:
			return onair.Errorf(onair.EInvalid, "track %d is listed twice", id)
		}
		seen[id] = true
	}
	for _, t := range current {
		if !seen[t.ID] {
			return onair.Errorf(onair.EInvalid, "track %d is missing from the order", t.ID)
		}
	}
	return nil
}

// stationExists returns ENotFound unless the station exists.
func stationExists(ctx context.Context, tx *sql.Tx, stationID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM stations WHERE id = ?`, stationID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return onair.Errorf(onair.ENotFound, "station %d not found", stationID)
	}
	return nil
}

// queryTracks lists a station's tracks in play order; the id breaks ties
// so the order is stable even if positions were ever equal.
func queryTracks(ctx context.Context, tx *sql.Tx, stationID int64) ([]onair.Track, error) {
	rows, err := tx.QueryContext(ctx, trackSelect+` WHERE station_id = ? ORDER BY position, id`, stationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ts := []onair.Track{}
	for rows.Next() {
		t, err := scanTrack(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// scanTrack reads the columns of trackSelect.
func scanTrack(row scanner) (onair.Track, error) {
	var (
		t                onair.Track
		durMS, createdMS int64
	)
	err := row.Scan(&t.ID, &t.StationID, &t.Title, &t.Artist, &t.Album, &durMS, &t.Bitrate, &t.SampleRate,
		&t.Channels, &t.Filename, &t.Path, &t.Size, &t.Position, &createdMS)
	if err != nil {
		return onair.Track{}, err
	}
	t.Duration = time.Duration(durMS) * time.Millisecond
	t.CreatedAt = fromMillis(createdMS)
	return t, nil
}
