package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/onairfm/onair"
)

// maxStreamerMatches bounds how many stations' streamers of one name a
// source login looks at: each costs a bcrypt check.
const maxStreamerMatches = 8

// CreateStreamer stores a streamer of station stationID. A name taken on
// that station, in any letter case, is a conflict.
func (db *DB) CreateStreamer(ctx context.Context, stationID int64, username, displayName, passwordHash string) (*onair.Streamer, error) {
	switch {
	case username == "":
		return nil, fmt.Errorf("store: create streamer: %w", onair.Errorf(onair.EInvalid, "username is required"))
	case passwordHash == "":
		return nil, fmt.Errorf("store: create streamer %q: %w", username, onair.Errorf(onair.EInvalid, "password hash is required"))
	}
	s := &onair.Streamer{StationID: stationID, Username: username, DisplayName: displayName, CreatedAt: db.now()}
	err := db.write.QueryRowContext(ctx,
		`INSERT INTO streamers (station_id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		stationID, username, displayName, passwordHash, s.CreatedAt.UnixMilli()).Scan(&s.ID)
	switch {
	case isUnique(err):
		return nil, fmt.Errorf("store: create streamer %q: %w", username, onair.Errorf(onair.EConflict, "streamer %q exists on this station", username))
	case isForeignKey(err):
		return nil, fmt.Errorf("store: create streamer %q: %w", username, onair.Errorf(onair.ENotFound, "station %d not found", stationID))
	case err != nil:
		return nil, fmt.Errorf("store: create streamer %q: %w", username, err)
	}
	return s, nil
}

// Streamers lists station stationID's streamers by name.
func (db *DB) Streamers(ctx context.Context, stationID int64) ([]*onair.Streamer, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, station_id, username, display_name, created_at, password_hash FROM streamers WHERE station_id = ? ORDER BY username`, stationID)
	if err != nil {
		return nil, fmt.Errorf("store: streamers of station %d: %w", stationID, err)
	}
	defer rows.Close()
	out := []*onair.Streamer{}
	for rows.Next() {
		s, _, err := scanStreamer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: streamers of station %d: %w", stationID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: streamers of station %d: %w", stationID, err)
	}
	return out, nil
}

// StreamerLogin is a streamer with its password hash, for a login check.
type StreamerLogin struct {
	*onair.Streamer
	PasswordHash string
}

// StreamersNamed returns the streamers called username on any station (at
// most a few), station stationID's first, for a source login to check.
func (db *DB) StreamersNamed(ctx context.Context, stationID int64, username string) ([]StreamerLogin, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, station_id, username, display_name, created_at, password_hash FROM streamers
		 WHERE username = ? ORDER BY station_id != ?, station_id LIMIT ?`, username, stationID, maxStreamerMatches)
	if err != nil {
		return nil, fmt.Errorf("store: streamers named %q: %w", username, err)
	}
	defer rows.Close()
	var out []StreamerLogin
	for rows.Next() {
		s, hash, err := scanStreamer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: streamers named %q: %w", username, err)
		}
		out = append(out, StreamerLogin{Streamer: s, PasswordHash: hash})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: streamers named %q: %w", username, err)
	}
	return out, nil
}

// DeleteStreamer removes station stationID's streamer username.
func (db *DB) DeleteStreamer(ctx context.Context, stationID int64, username string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM streamers WHERE station_id = ? AND username = ?`, stationID, username)
	if err != nil {
		return fmt.Errorf("store: delete streamer %q: %w", username, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete streamer %q: %w", username, err)
	} else if n == 0 {
		return fmt.Errorf("store: delete streamer %q: %w", username, onair.Errorf(onair.ENotFound, "streamer %q not found", username))
	}
	return nil
}

// scanStreamer reads id, station_id, username, display_name, created_at,
// password_hash.
func scanStreamer(row scanner) (*onair.Streamer, string, error) {
	var (
		s       onair.Streamer
		created int64
		hash    string
	)
	err := row.Scan(&s.ID, &s.StationID, &s.Username, &s.DisplayName, &created, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", err
	}
	if err != nil {
		return nil, "", err
	}
	s.CreatedAt = fromMillis(created)
	return &s, hash, nil
}
