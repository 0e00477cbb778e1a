package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/onairfm/onair"
)

// ChangePassword sets a new password for the user of token, who must give
// the current one. Every other session of the user ends in the same
// store transaction; token's own session lives on. It returns the user,
// so the caller can close the user's other sockets.
func (s *Service) ChangePassword(ctx context.Context, token, current, next string) (*onair.User, error) {
	u, err := s.UserByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	_, hash, err := s.Store.UserByUsername(ctx, u.Username)
	if err != nil {
		return nil, fmt.Errorf("auth: change password: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(current)) != nil || len(current) > MaxPasswordBytes {
		return nil, fmt.Errorf("auth: change password: %w", ErrWrongPassword)
	}
	if err := ValidatePassword(next); err != nil {
		return nil, fmt.Errorf("auth: change password: %w", err)
	}
	newHash, err := s.hash(next)
	if err != nil {
		return nil, fmt.Errorf("auth: change password: %w", err)
	}
	if err := s.Store.SetPasswordHash(ctx, u.ID, newHash, hashToken(token)); err != nil {
		return nil, fmt.Errorf("auth: change password: %w", err)
	}
	return u, nil
}

// Users lists every account, for admins.
func (s *Service) Users(ctx context.Context) ([]onair.User, error) {
	if s.Store == nil {
		return nil, ErrNoStore
	}
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: users: %w", err)
	}
	return users, nil
}

// UpdateUser disables or enables an account and may change its role
// (role "" keeps it). Disabling ends its sessions at once. An admin cannot
// disable or demote the last enabled admin: nobody could undo it.
func (s *Service) UpdateUser(ctx context.Context, username string, disabled bool, role onair.Role) (*onair.User, error) {
	u, err := s.lookup(ctx, username)
	if err != nil {
		return nil, err
	}
	if role != "" && !role.Valid() {
		return nil, fmt.Errorf("auth: update user %q: %w", username,
			onair.Errorf(onair.EInvalid, "role must be admin, owner or listener"))
	}
	losesAdmin := u.Role == onair.RoleAdmin && !u.Disabled && (disabled || (role != "" && role != onair.RoleAdmin))
	if losesAdmin {
		if err := s.keepOneAdmin(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("auth: update user %q: %w", username, err)
		}
	}
	if err := s.Store.UpdateUser(ctx, u.ID, disabled, role); err != nil {
		return nil, fmt.Errorf("auth: update user %q: %w", username, err)
	}
	u.Disabled = disabled
	if role != "" {
		u.Role = role
	}
	return u, nil
}

// DeleteUser removes an account and its sessions, and returns it. The last
// enabled admin cannot be deleted; a user who owns stations neither.
func (s *Service) DeleteUser(ctx context.Context, username string) (*onair.User, error) {
	u, err := s.lookup(ctx, username)
	if err != nil {
		return nil, err
	}
	if u.Role == onair.RoleAdmin && !u.Disabled {
		if err := s.keepOneAdmin(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("auth: delete user %q: %w", username, err)
		}
	}
	if err := s.Store.DeleteUser(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("auth: delete user %q: %w", username, err)
	}
	return u, nil
}

func (s *Service) lookup(ctx context.Context, username string) (*onair.User, error) {
	if s.Store == nil {
		return nil, ErrNoStore
	}
	u, _, err := s.Store.UserByUsername(ctx, username)
	if err != nil {
		return nil, fmt.Errorf("auth: user %q: %w", username, err)
	}
	return u, nil
}

// keepOneAdmin refuses to take away admin id when no other enabled admin
// is left.
func (s *Service) keepOneAdmin(ctx context.Context, id int64) error {
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, o := range users {
		if o.ID != id && o.Role == onair.RoleAdmin && !o.Disabled {
			return nil
		}
	}
	return onair.Errorf(onair.EConflict, "this is the last admin: make another admin first")
}

// SetupToken returns the first-run setup token, making one on first call,
// while no admin exists; ok is false once there is an admin. The token
// lives in memory only: a restart makes a new one.
func (s *Service) SetupToken(ctx context.Context) (token string, ok bool, err error) {
	if s.Store == nil {
		return "", false, ErrNoStore
	}
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	n, err := s.Store.CountAdmins(ctx)
	if err != nil {
		return "", false, fmt.Errorf("auth: setup token: %w", err)
	}
	if n > 0 {
		s.setupToken = ""
		return "", false, nil
	}
	if s.setupToken == "" {
		if s.setupToken, err = newToken(); err != nil {
			return "", false, err
		}
	}
	return s.setupToken, true, nil
}

// Setup creates the first admin with the setup token and logs it in. A
// wrong token, no token made yet, or an admin already there is
// ErrBadSetupToken; afterwards the token is spent.
func (s *Service) Setup(ctx context.Context, setupToken, username, password string) (string, *onair.User, error) {
	if s.Store == nil {
		return "", nil, ErrNoStore
	}
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.setupToken == "" || subtle.ConstantTimeCompare([]byte(setupToken), []byte(s.setupToken)) != 1 {
		return "", nil, fmt.Errorf("auth: setup: %w", ErrBadSetupToken)
	}
	n, err := s.Store.CountAdmins(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("auth: setup: %w", err)
	}
	if n > 0 {
		s.setupToken = ""
		return "", nil, fmt.Errorf("auth: setup: %w", ErrBadSetupToken)
	}
	u, err := s.CreateUser(ctx, username, password, onair.RoleAdmin)
	if err != nil {
		return "", nil, err
	}
	s.setupToken = ""
	token, err := s.startSession(ctx, u.ID)
	if err != nil {
		return "", nil, fmt.Errorf("auth: setup: %w", err)
	}
	return token, u, nil
}

// PurgeExpired deletes expired sessions every interval until ctx ends. The
// caller runs it on a goroutine it owns and waits for.
func (s *Service) PurgeExpired(ctx context.Context, every time.Duration, report func(n int64, err error)) {
	if s.Store == nil || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.Store.DeleteExpiredSessions(ctx)
		if report != nil && !errors.Is(err, context.Canceled) {
			report(n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
