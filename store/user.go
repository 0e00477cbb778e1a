package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/onairfm/onair"
)

// CreateUser stores a new account. The store checks only what the schema
// needs (a name, a hash, a known role); password and name rules belong to
// package auth. A name taken in any letter case is a conflict.
func (db *DB) CreateUser(ctx context.Context, username, passwordHash string, role onair.Role) (*onair.User, error) {
	switch {
	case username == "":
		return nil, fmt.Errorf("store: create user: %w", onair.Errorf(onair.EInvalid, "username is required"))
	case passwordHash == "":
		return nil, fmt.Errorf("store: create user %q: %w", username, onair.Errorf(onair.EInvalid, "password hash is required"))
	case !role.Valid():
		return nil, fmt.Errorf("store: create user %q: %w", username, onair.Errorf(onair.EInvalid, "unknown role %q", role))
	}
	u := &onair.User{Username: username, Role: role, CreatedAt: db.now()}
	err := db.write.QueryRowContext(ctx,
		`INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		username, passwordHash, string(role), u.CreatedAt.UnixMilli()).Scan(&u.ID)
	if isUnique(err) {
		return nil, fmt.Errorf("store: create user %q: %w", username, onair.Errorf(onair.EConflict, "username %q is taken", username))
	}
	if err != nil {
		return nil, fmt.Errorf("store: create user %q: %w", username, err)
	}
	return u, nil
}

// UserByUsername finds an account by name, in any letter case, and returns
// its password hash for the caller to check.
func (db *DB) UserByUsername(ctx context.Context, name string) (*onair.User, string, error) {
	u, hash, err := scanUser(db.read.QueryRowContext(ctx,
		`SELECT id, username, role, created_at, password_hash FROM users WHERE username = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("store: user %q: %w", name, onair.Errorf(onair.ENotFound, "user %q not found", name))
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: user %q: %w", name, err)
	}
	return u, hash, nil
}

// UserByID finds an account by id.
func (db *DB) UserByID(ctx context.Context, id int64) (*onair.User, error) {
	u, _, err := scanUser(db.read.QueryRowContext(ctx,
		`SELECT id, username, role, created_at, password_hash FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: user %d: %w", id, onair.Errorf(onair.ENotFound, "user %d not found", id))
	}
	if err != nil {
		return nil, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}

// CountAdmins counts admin accounts, so start-up can tell whether it must
// bootstrap one.
func (db *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM users WHERE role = ?`, string(onair.RoleAdmin)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count admins: %w", err)
	}
	return n, nil
}

// scanUser reads the columns id, username, role, created_at, password_hash.
func scanUser(row scanner) (*onair.User, string, error) {
	var (
		u       onair.User
		role    string
		created int64
		hash    string
	)
	if err := row.Scan(&u.ID, &u.Username, &role, &created, &hash); err != nil {
		return nil, "", err
	}
	u.Role = onair.Role(role)
	u.CreatedAt = fromMillis(created)
	return &u, hash, nil
}
