package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onairfm/onair"
)

// stationSelect reads a station with its owner's username; scanStation
// expects exactly these columns.
const stationSelect = `SELECT s.id, s.slug, s.name, s.description, s.genre, s.owner_id, u.username,
	s.shuffle, s.loop, s.live, s.show, COALESCE(s.current_track_id, 0), s.likes, s.created_at,
	s.sample_rate, s.mp3_bitrate, s.crossfade_ms, s.loudness_enabled, s.loudness_target, s.jingle_every
	FROM stations s JOIN users u ON u.id = s.owner_id`

// stationOrder lists stations by name as a person would sort them, with the
// id breaking ties so the order is stable.
const stationOrder = ` ORDER BY s.name COLLATE NOCASE, s.id`

// CreateStation stores st and fills its ID, CreatedAt and Owner.
//
// A new station always starts off air and looping, whatever st says: the
// zero Station has Loop false, and the contract's default is true. Shuffle,
// Show and Audio are taken from st (a zero Audio takes the schema's
// defaults, which are filled back); UpdateStation changes the rest later.
func (db *DB) CreateStation(ctx context.Context, st *onair.Station) error {
	if err := checkStation(st); err != nil {
		return fmt.Errorf("store: create station: %w", err)
	}
	if strings.TrimSpace(st.Slug) == "" {
		return fmt.Errorf("store: create station: %w", onair.Errorf(onair.EInvalid, "station slug is required"))
	}
	created := db.now()
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO stations (slug, name, description, genre, owner_id, shuffle, loop, live, show, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?, ?) RETURNING id`,
			st.Slug, st.Name, st.Description, st.Genre, st.OwnerID, boolInt(st.Shuffle), st.Show,
			created.UnixMilli()).Scan(&st.ID)
		switch {
		case isUnique(err):
			return onair.Errorf(onair.EConflict, "station %q exists", st.Slug)
		case isForeignKey(err):
			return onair.Errorf(onair.ENotFound, "owner %d not found", st.OwnerID)
		case err != nil:
			return err
		}
		if st.Audio != (onair.AudioSettings{}) {
			if err := writeAudio(ctx, tx, `id = ?`, st.ID, st.Audio); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `SELECT u.username, s.sample_rate, s.mp3_bitrate, s.crossfade_ms,
			s.loudness_enabled, s.loudness_target, s.jingle_every
			FROM stations s JOIN users u ON u.id = s.owner_id WHERE s.id = ?`, st.ID).Scan(
			append([]any{&st.Owner}, audioDest(&st.Audio)...)...)
	})
	if err != nil {
		st.ID = 0
		return fmt.Errorf("store: create station %q: %w", st.Slug, err)
	}
	st.CreatedAt = created
	st.Loop = true
	st.Live = false
	st.CurrentTrackID = 0
	return nil
}

// writeAudio saves a station's audio settings.
func writeAudio(ctx context.Context, tx *sql.Tx, where string, key any, a onair.AudioSettings) error {
	_, err := tx.ExecContext(ctx, `UPDATE stations SET sample_rate = ?, mp3_bitrate = ?, crossfade_ms = ?,
		loudness_enabled = ?, loudness_target = ?, jingle_every = ? WHERE `+where,
		a.SampleRate, a.MP3Bitrate, a.Crossfade.Milliseconds(), boolInt(a.LoudnessEnabled), a.LoudnessTarget,
		a.JingleEvery, key)
	return err
}

// audioDest returns scan destinations for the six audio columns, in
// stationSelect's order, written straight into a.
func audioDest(a *onair.AudioSettings) []any {
	return []any{&a.SampleRate, &a.MP3Bitrate, durationMS{&a.Crossfade}, boolCol{&a.LoudnessEnabled},
		&a.LoudnessTarget, &a.JingleEvery}
}

// durationMS scans an INTEGER of milliseconds into a time.Duration.
type durationMS struct{ d *time.Duration }

func (c durationMS) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*c.d = time.Duration(n.Int64) * time.Millisecond
	return nil
}

// boolCol scans an INTEGER 0/1 into a bool.
type boolCol struct{ b *bool }

func (c boolCol) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*c.b = n.Int64 != 0
	return nil
}

// checkStation refuses what no station may be stored with.
func checkStation(st *onair.Station) error {
	switch {
	case st == nil:
		return onair.Errorf(onair.EInvalid, "no station given")
	case strings.TrimSpace(st.Name) == "":
		return onair.Errorf(onair.EInvalid, "station name is required")
	}
	return nil
}

// StationBySlug finds one station.
func (db *DB) StationBySlug(ctx context.Context, slug string) (*onair.Station, error) {
	st, err := scanStation(db.read.QueryRowContext(ctx, stationSelect+` WHERE s.slug = ?`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: station %q: %w", slug, notFoundStation(slug))
	}
	if err != nil {
		return nil, fmt.Errorf("store: station %q: %w", slug, err)
	}
	return st, nil
}

func notFoundStation(slug string) *onair.Error {
	return onair.Errorf(onair.ENotFound, "station %q not found", slug)
}

// stationIDTx is the ID of the station slug inside tx, or its ENotFound
// error.
func stationIDTx(ctx context.Context, tx *sql.Tx, slug string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM stations WHERE slug = ?`, slug).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFoundStation(slug)
	}
	return id, err
}

// Stations lists every station, ordered by name.
func (db *DB) Stations(ctx context.Context) ([]*onair.Station, error) {
	sts, err := db.queryStations(ctx, stationSelect+stationOrder)
	if err != nil {
		return nil, fmt.Errorf("store: stations: %w", err)
	}
	return sts, nil
}

// StationsByOwner lists the stations ownerID owns, ordered by name.
func (db *DB) StationsByOwner(ctx context.Context, ownerID int64) ([]*onair.Station, error) {
	sts, err := db.queryStations(ctx, stationSelect+` WHERE s.owner_id = ?`+stationOrder, ownerID)
	if err != nil {
		return nil, fmt.Errorf("store: stations of user %d: %w", ownerID, err)
	}
	return sts, nil
}

// LiveStations lists the stations whose owner wants them on air, so a
// restarted server can resume them.
func (db *DB) LiveStations(ctx context.Context) ([]*onair.Station, error) {
	sts, err := db.queryStations(ctx, stationSelect+` WHERE s.live = 1`+stationOrder)
	if err != nil {
		return nil, fmt.Errorf("store: live stations: %w", err)
	}
	return sts, nil
}

func (db *DB) queryStations(ctx context.Context, query string, args ...any) ([]*onair.Station, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sts := []*onair.Station{}
	for rows.Next() {
		st, err := scanStation(rows)
		if err != nil {
			return nil, err
		}
		sts = append(sts, st)
	}
	return sts, rows.Err()
}

// UpdateStation saves the fields an owner may change: name, description,
// genre, shuffle, loop, show and, unless st.Audio is zero (no valid
// setting is), the audio settings, all in one statement. The station is
// found by st.ID, or by st.Slug when ID is zero; the slug itself never
// changes, as stream URLs are built from it.
func (db *DB) UpdateStation(ctx context.Context, st *onair.Station) error {
	if err := checkStation(st); err != nil {
		return fmt.Errorf("store: update station: %w", err)
	}
	where, key, notFound := `id = ?`, any(st.ID), onair.Errorf(onair.ENotFound, "station %d not found", st.ID)
	if st.ID == 0 {
		where, key, notFound = `slug = ?`, st.Slug, notFoundStation(st.Slug)
	}
	query := `UPDATE stations SET name = ?, description = ?, genre = ?, shuffle = ?, loop = ?, show = ?`
	args := []any{st.Name, st.Description, st.Genre, boolInt(st.Shuffle), boolInt(st.Loop), st.Show}
	if a := st.Audio; a != (onair.AudioSettings{}) {
		query += `, sample_rate = ?, mp3_bitrate = ?, crossfade_ms = ?, loudness_enabled = ?,
			loudness_target = ?, jingle_every = ?`
		args = append(args, a.SampleRate, a.MP3Bitrate, a.Crossfade.Milliseconds(), boolInt(a.LoudnessEnabled),
			a.LoudnessTarget, a.JingleEvery)
	}
	res, err := db.write.ExecContext(ctx, query+` WHERE `+where, append(args, key)...)
	if err != nil {
		return fmt.Errorf("store: update station %q: %w", st.Slug, err)
	}
	if err := mustAffect(res, notFound); err != nil {
		return fmt.Errorf("store: update station %q: %w", st.Slug, err)
	}
	return nil
}

// DeleteStation removes a station and, by cascade, its tracks. It returns
// the deleted tracks so the caller can remove their files: the rows go
// first, so a crash leaves orphan files rather than rows naming missing
// files.
func (db *DB) DeleteStation(ctx context.Context, slug string) ([]onair.Track, error) {
	var tracks []onair.Track
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		id, err := stationIDTx(ctx, tx, slug)
		if err != nil {
			return err
		}
		if tracks, err = queryTracks(ctx, tx, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM stations WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete station %q: %w", slug, err)
	}
	return tracks, nil
}

// SetLive records whether the owner wants the station on air.
func (db *DB) SetLive(ctx context.Context, slug string, live bool) error {
	res, err := db.write.ExecContext(ctx, `UPDATE stations SET live = ? WHERE slug = ?`, boolInt(live), slug)
	if err == nil {
		err = mustAffect(res, notFoundStation(slug))
	}
	if err != nil {
		return fmt.Errorf("store: set live %q: %w", slug, err)
	}
	return nil
}

// SetCurrentTrack records the track playing now, so a restart resumes
// there; zero clears it. The track must belong to the station.
func (db *DB) SetCurrentTrack(ctx context.Context, slug string, trackID int64) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		stationID, err := stationIDTx(ctx, tx, slug)
		if err != nil {
			return err
		}
		var current any // NULL clears
		if trackID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx,
				`SELECT COUNT(*) FROM tracks WHERE id = ? AND station_id = ?`, trackID, stationID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return onair.Errorf(onair.ENotFound, "track %d not found on station %q", trackID, slug)
			}
			current = trackID
		}
		_, err = tx.ExecContext(ctx, `UPDATE stations SET current_track_id = ? WHERE id = ?`, current, stationID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set current track of %q: %w", slug, err)
	}
	return nil
}

// AddLike counts one more like and returns the new total.
func (db *DB) AddLike(ctx context.Context, slug string) (int64, error) {
	var n int64
	err := db.write.QueryRowContext(ctx,
		`UPDATE stations SET likes = likes + 1 WHERE slug = ? RETURNING likes`, slug).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = notFoundStation(slug)
	}
	if err != nil {
		return 0, fmt.Errorf("store: like %q: %w", slug, err)
	}
	return n, nil
}

// Likes returns a station's like count.
func (db *DB) Likes(ctx context.Context, slug string) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT likes FROM stations WHERE slug = ?`, slug).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = notFoundStation(slug)
	}
	if err != nil {
		return 0, fmt.Errorf("store: likes of %q: %w", slug, err)
	}
	return n, nil
}

// mustAffect returns notFound when res changed no row.
func mustAffect(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// scanStation reads the columns of stationSelect.
func scanStation(row scanner) (*onair.Station, error) {
	var (
		st                  onair.Station
		shuffle, loop, live int
		created             int64
	)
	err := row.Scan(append([]any{&st.ID, &st.Slug, &st.Name, &st.Description, &st.Genre, &st.OwnerID, &st.Owner,
		&shuffle, &loop, &live, &st.Show, &st.CurrentTrackID, &st.Likes, &created},
		audioDest(&st.Audio)...)...)
	if err != nil {
		return nil, err
	}
	st.Shuffle, st.Loop, st.Live = shuffle != 0, loop != 0, live != 0
	st.CreatedAt = fromMillis(created)
	return &st, nil
}
