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
	channels, filename, path, size, position, created_at, format, kind, art_mime,
	loudness_lufs, peak_dbtp, cue_in_ms, cue_out_ms FROM tracks`

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
	if t.Format == "" {
		t.Format = onair.FormatMP3
	}
	if t.Kind == "" {
		t.Kind = onair.KindMusic
	}
	if !t.Kind.Valid() {
		return fmt.Errorf("store: add track %s: %w", t.Path, onair.Errorf(onair.EInvalid, "unknown track kind %q", t.Kind))
	}
	loud, peak, cueIn, cueOut := analysisArgs(t.Analysis)
	created := db.now()
	var pos int
	err := db.write.QueryRowContext(ctx,
		`INSERT INTO tracks (station_id, title, artist, album, duration_ms, bitrate, sample_rate,
		                     channels, filename, path, size, position, created_at, format, kind, art_mime,
		                     loudness_lufs, peak_dbtp, cue_in_ms, cue_out_ms)
		 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(position) + 1, 0), ?, ?, ?, ?, ?, ?, ?, ?
		   FROM tracks WHERE station_id = ?
		 RETURNING id, position`,
		t.StationID, t.Title, t.Artist, t.Album, t.Duration.Milliseconds(), t.Bitrate, t.SampleRate,
		t.Channels, t.Filename, t.Path, t.Size, created.UnixMilli(), t.Format, string(t.Kind), t.ArtMIME,
		loud, peak, cueIn, cueOut, t.StationID).Scan(&t.ID, &pos)
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
	if t.Analysis != nil {
		a := *t.Analysis
		a.CueIn, a.CueOut = a.CueIn.Truncate(time.Millisecond), a.CueOut.Truncate(time.Millisecond)
		t.Analysis = &a
	}
	return nil
}

// analysisArgs are the four analysis columns of a, all NULL when a is nil.
func analysisArgs(a *onair.Analysis) (loud, peak, cueIn, cueOut any) {
	if a == nil {
		return nil, nil, nil, nil
	}
	return a.Loudness, a.Peak, a.CueIn.Milliseconds(), a.CueOut.Milliseconds()
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
		kind             string
		loud, peak       sql.NullFloat64
		cueIn, cueOut    sql.NullInt64
	)
	err := row.Scan(&t.ID, &t.StationID, &t.Title, &t.Artist, &t.Album, &durMS, &t.Bitrate, &t.SampleRate,
		&t.Channels, &t.Filename, &t.Path, &t.Size, &t.Position, &createdMS, &t.Format, &kind, &t.ArtMIME,
		&loud, &peak, &cueIn, &cueOut)
	if err != nil {
		return onair.Track{}, err
	}
	t.Kind = onair.TrackKind(kind)
	if loud.Valid && peak.Valid && cueIn.Valid && cueOut.Valid {
		t.Analysis = &onair.Analysis{
			Loudness: loud.Float64,
			Peak:     peak.Float64,
			CueIn:    time.Duration(cueIn.Int64) * time.Millisecond,
			CueOut:   time.Duration(cueOut.Int64) * time.Millisecond,
		}
	}
	t.Duration = time.Duration(durMS) * time.Millisecond
	t.CreatedAt = fromMillis(createdMS)
	return t, nil
}

// UpdateTrack saves what an owner may change of a track: title, artist,
// kind and, when t.Analysis is set, its cue points (the measured loudness
// and peak stay as analysed). The track is found by t.ID on t.StationID.
func (db *DB) UpdateTrack(ctx context.Context, t *onair.Track) error {
	switch {
	case t == nil:
		return fmt.Errorf("store: update track: %w", onair.Errorf(onair.EInvalid, "no track given"))
	case !t.Kind.Valid():
		return fmt.Errorf("store: update track %d: %w", t.ID, onair.Errorf(onair.EInvalid, "unknown track kind %q", t.Kind))
	}
	query := `UPDATE tracks SET title = ?, artist = ?, kind = ?`
	args := []any{t.Title, t.Artist, string(t.Kind)}
	if a := t.Analysis; a != nil {
		query += `, cue_in_ms = ?, cue_out_ms = ?`
		args = append(args, a.CueIn.Milliseconds(), a.CueOut.Milliseconds())
	}
	res, err := db.write.ExecContext(ctx, query+` WHERE id = ? AND station_id = ?`, append(args, t.ID, t.StationID)...)
	if err == nil {
		err = mustAffect(res, onair.Errorf(onair.ENotFound, "track %d not found on station %d", t.ID, t.StationID))
	}
	if err != nil {
		return fmt.Errorf("store: update track %d: %w", t.ID, err)
	}
	return nil
}

// SetTrackAnalysis records what analysis measured of a track, replacing
// any earlier measurement and cue points.
func (db *DB) SetTrackAnalysis(ctx context.Context, trackID int64, a onair.Analysis) error {
	loud, peak, cueIn, cueOut := analysisArgs(&a)
	res, err := db.write.ExecContext(ctx,
		`UPDATE tracks SET loudness_lufs = ?, peak_dbtp = ?, cue_in_ms = ?, cue_out_ms = ? WHERE id = ?`,
		loud, peak, cueIn, cueOut, trackID)
	if err == nil {
		err = mustAffect(res, onair.Errorf(onair.ENotFound, "track %d not found", trackID))
	}
	if err != nil {
		return fmt.Errorf("store: set analysis of track %d: %w", trackID, err)
	}
	return nil
}

// UnanalysedTracks lists every track, of any station, whose sound was
// never measured (uploaded before analysis existed, or its analysis
// failed), oldest first.
func (db *DB) UnanalysedTracks(ctx context.Context) ([]onair.Track, error) {
	rows, err := db.read.QueryContext(ctx, trackSelect+` WHERE loudness_lufs IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unanalysed tracks: %w", err)
	}
	defer rows.Close()
	ts := []onair.Track{}
	for rows.Next() {
		t, err := scanTrack(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unanalysed tracks: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unanalysed tracks: %w", err)
	}
	return ts, nil
}
