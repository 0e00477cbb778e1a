package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/onairfm/onair"
)

// CreateSession records a login. Only a hash of the session token is
// stored, so a copy of the database does not hand out live sessions.
func (db *DB) CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error {
	if tokenHash == "" {
		return fmt.Errorf("store: create session: %w", onair.Errorf(onair.EInvalid, "token hash is required"))
	}
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, userID, db.now().UnixMilli(), expires.UnixMilli())
	switch {
	case isForeignKey(err):
		return fmt.Errorf("store: create session: %w", onair.Errorf(onair.ENotFound, "user %d not found", userID))
	case isUnique(err):
		return fmt.Errorf("store: create session: %w", onair.Errorf(onair.EConflict, "session exists"))
	case err != nil:
		return fmt.Errorf("store: create session for user %d: %w", userID, err)
	}
	return nil
}

// UserBySession returns the account a session belongs to. A session past
// its expiry is treated as absent even before DeleteExpiredSessions
// removes it.
func (db *DB) UserBySession(ctx context.Context, tokenHash string) (*onair.User, error) {
	u, _, err := scanUser(db.read.QueryRowContext(ctx,
		`SELECT u.id, u.username, u.role, u.created_at, u.password_hash, u.disabled
		   FROM sessions s JOIN users u ON u.id = s.user_id
		  WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0`,
		tokenHash, db.now().UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: session: %w", onair.Errorf(onair.ENotFound, "session not found"))
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	return u, nil
}

// DeleteSession ends a session. A session that does not exist is
// ENotFound, which a logout may choose to ignore.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: delete session: %w", onair.Errorf(onair.ENotFound, "session not found"))
	}
	return nil
}

// DeleteExpiredSessions removes every session past its expiry and reports
// how many; the server calls it now and then so the table does not grow
// without bound.
func (db *DB) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := db.write.ExecContext(ctx,
		`DELETE FROM sessions WHERE expires_at <= ?`, db.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
