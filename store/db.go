// Package store owns onair's persistent state: a SQLite database of users,
// sessions, stations and tracks, its schema migrations, and the mapping
// between its rows and the onair domain types.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite": no cgo, so the
	// server stays one static binary.
	_ "modernc.org/sqlite"
)

// busyTimeout is how long a connection waits for a lock held by another
// process (or by the checkpointer) before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is the onair database. Its methods are safe for concurrent use.
//
// Writes go through a pool of exactly one connection, so writers of this
// process queue in Go instead of racing for SQLite's write lock and failing
// with SQLITE_BUSY; transactions on it begin IMMEDIATE so a transaction that
// reads first never has to upgrade its lock. Reads use a separate pool: in
// WAL mode readers never block the writer nor each other.
type DB struct {
	// Now is the clock for created_at and session expiry; nil means
	// time.Now. Tests set it to move time without waiting.
	Now func() time.Time

	write *sql.DB
	read  *sql.DB
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date. Running it at every start is safe: applied migrations
// are skipped.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("store: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{}
	db.write, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.write.SetConnMaxLifetime(0)
	if err := db.write.PingContext(ctx); err != nil {
		_ = db.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Migrate before the read pool exists: its connections then see the
	// final schema and the WAL journal mode, which is a property of the file.
	if err := migrate(ctx, db.write); err != nil {
		_ = db.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.read, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		_ = db.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	if err := db.read.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// dsn builds a file: URI for the driver. The path is escaped, so a '?' or
// '#' in a directory name cannot be mistaken for the parameter list.
func dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	if readOnly {
		q.Set("_query_only", "on")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	// url.URL renders "file:///abs/path": an empty authority, as SQLite
	// expects for a local file.
	return u.String()
}

// Close closes both connection pools. The write pool is closed last so the
// final WAL checkpoint runs with no reader holding a snapshot.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// now returns the current time from db.Now, in UTC and truncated to the
// millisecond the database keeps, so a value handed back to the caller
// equals the one read later.
func (db *DB) now() time.Time {
	f := db.Now
	if f == nil {
		f = time.Now
	}
	return fromMillis(f().UnixMilli())
}

// fromMillis turns a stored time back into a time.Time in UTC.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// withTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise, so a failed operation leaves nothing half-done.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // fn's error says what went wrong; this one adds nothing
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// withReadTx runs fn in a read-only transaction, so every query in it sees
// the same snapshot of the database.
func (db *DB) withReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep or lose
	return fn(tx)
}

// boolInt stores a bool as SQLite's 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
