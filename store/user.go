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
		`SELECT `+userColumns+` FROM users WHERE username = ?`, name))
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
		`SELECT `+userColumns+` FROM users WHERE id = ?`, id))
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

// userColumns are the columns scanUser reads, in its order.
const userColumns = `id, username, role, created_at, password_hash, disabled`

// scanUser reads userColumns.
func scanUser(row scanner) (*onair.User, string, error) {
	var (
		u       onair.User
		role    string
		created int64
		hash    string
	)
	if err := row.Scan(&u.ID, &u.Username, &role, &created, &hash, &u.Disabled); err != nil {
		return nil, "", err
	}
	u.Role = onair.Role(role)
	u.CreatedAt = fromMillis(created)
	return &u, hash, nil
}

// ListUsers returns every account by name, for the admin's list.
func (db *DB) ListUsers(ctx context.Context) ([]onair.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close() //nolint:errcheck // read-only
	users := []onair.User{}
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// UpdateUser sets a user's disabled flag and, when role is not empty, its
// role. Disabling also ends every session of the user, in the same
// transaction, so no request slips through between the two.
func (db *DB) UpdateUser(ctx context.Context, id int64, disabled bool, role onair.Role) error {
	if role != "" && !role.Valid() {
		return fmt.Errorf("store: update user %d: %w", id, onair.Errorf(onair.EInvalid, "unknown role %q", role))
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE users SET disabled = ?, role = COALESCE(NULLIF(?, ''), role) WHERE id = ?`, disabled, string(role), id)
		if err != nil {
			return fmt.Errorf("store: update user %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: update user %d: %w", id, onair.Errorf(onair.ENotFound, "user %d not found", id))
		}
		if disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return fmt.Errorf("store: update user %d: end sessions: %w", id, err)
			}
		}
		return nil
	})
}

// SetPasswordHash replaces a user's password and ends every other session
// of the user (all but keepTokenHash, which may be ""), in one transaction.
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash, keepTokenHash string) error {
	if hash == "" {
		return fmt.Errorf("store: set password: %w", onair.Errorf(onair.EInvalid, "password hash is required"))
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
		if err != nil {
			return fmt.Errorf("store: set password of user %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: set password: %w", onair.Errorf(onair.ENotFound, "user %d not found", id))
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, id, keepTokenHash); err != nil {
			return fmt.Errorf("store: set password of user %d: end sessions: %w", id, err)
		}
		return nil
	})
}

// DeleteUser removes an account and its sessions. A user who still owns
// stations is a conflict: their tracks and files must go first, which is
// control's job, not the store's.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM stations WHERE owner_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("store: delete user %d: %w", id, err)
		}
		if n > 0 {
			return fmt.Errorf("store: delete user %d: %w", id, onair.Errorf(onair.EConflict,
				"the user owns %d station(s): delete them first, or disable the account", n))
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("store: delete user %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: delete user %d: %w", id, onair.Errorf(onair.ENotFound, "user %d not found", id))
		}
		return nil
	})
}
