// Package auth owns accounts, passwords and login sessions: it checks
// names and passwords, hashes passwords with bcrypt, and hands out session
// tokens of which only a hash is stored.
package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/onairfm/onair"
)

// DefaultSessionTTL is how long a login lasts when Service.SessionTTL is 0.
const DefaultSessionTTL = 30 * 24 * time.Hour

// AdminUsername is the account EnsureAdmin creates.
const AdminUsername = "admin"

// Store is what Service needs from the database; *store.DB provides it.
type Store interface {
	CreateUser(ctx context.Context, username, passwordHash string, role onair.Role) (*onair.User, error)
	UserByUsername(ctx context.Context, name string) (*onair.User, string, error)
	CountAdmins(ctx context.Context) (int, error)
	CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error
	UserBySession(ctx context.Context, tokenHash string) (*onair.User, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context) (int64, error)
	ListUsers(ctx context.Context) ([]onair.User, error)
	UpdateUser(ctx context.Context, id int64, disabled bool, role onair.Role) error
	SetPasswordHash(ctx context.Context, id int64, hash, keepTokenHash string) error
	DeleteUser(ctx context.Context, id int64) error
}

// Service logs users in and out and creates accounts. Set Store; the other
// fields have working zero values. A Service must not be copied after first
// use.
type Service struct {
	Store Store
	// Now is the clock for session expiry; nil means time.Now. The store
	// judges expiry by its own clock, so tests set both.
	Now func() time.Time
	// SessionTTL is how long a login lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// Cost is the bcrypt cost for new hashes; 0 means bcrypt.DefaultCost.
	// Tests lower it to bcrypt.MinCost for speed.
	Cost int

	dummyOnce sync.Once
	dummy     []byte

	// setupMu guards setupToken and makes two setups run one at a time,
	// so only one of them can create the first admin.
	setupMu    sync.Mutex
	setupToken string
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) ttl() time.Duration {
	if s.SessionTTL <= 0 {
		return DefaultSessionTTL
	}
	return s.SessionTTL
}

func (s *Service) cost() int {
	if s.Cost == 0 {
		return bcrypt.DefaultCost
	}
	return s.Cost
}

// hash returns the bcrypt hash of password at the service's cost.
func (s *Service) hash(password string) (string, error) {
	if err := checkPasswordBytes(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cost())
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is a hash of nothing anyone can type, at the service's cost.
// A login for an unknown user is checked against it, so it costs the same
// bcrypt work as a wrong password and its timing does not reveal which
// names exist.
func (s *Service) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		// A random token as password: nobody knows it. Should the random
		// source fail, the fixed fallback still costs the same to check.
		pw, err := newToken()
		if err != nil {
			pw = "onair-no-such-user"
		}
		s.dummy, err = bcrypt.GenerateFromPassword([]byte(pw), s.cost())
		if err != nil {
			s.dummy = nil
		}
	})
	return s.dummy
}

// Login checks a name and password and starts a session. Whether the name
// is unknown or the password wrong, the error is ErrBadCredentials and the
// same bcrypt work is done.
func (s *Service) Login(ctx context.Context, username, password string) (string, *onair.User, error) {
	if s.Store == nil {
		return "", nil, ErrNoStore
	}
	u, hash, err := s.Store.UserByUsername(ctx, username)
	if onair.ErrorCode(err) == onair.ENotFound {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password)) // for the time it takes
		return "", nil, fmt.Errorf("auth: login %q: %w", username, ErrBadCredentials)
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: login %q: %w", username, err)
	}
	// bcrypt compares only the first 72 bytes; no password that long was
	// ever accepted, so a longer one is wrong even if its prefix matches.
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || len(password) > MaxPasswordBytes {
		return "", nil, fmt.Errorf("auth: login %q: %w", username, ErrBadCredentials)
	}
	// Said only to whoever knows the password, so it reveals nothing.
	if u.Disabled {
		return "", nil, fmt.Errorf("auth: login %q: %w", username, ErrDisabled)
	}
	token, err := s.startSession(ctx, u.ID)
	if err != nil {
		return "", nil, fmt.Errorf("auth: login %q: %w", username, err)
	}
	return token, u, nil
}

// startSession stores a new session for userID and returns its token.
func (s *Service) startSession(ctx context.Context, userID int64) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	if err := s.Store.CreateSession(ctx, hashToken(token), userID, s.now().Add(s.ttl())); err != nil {
		return "", err
	}
	return token, nil
}

// Logout ends the session of token. Logging out twice, or with a token
// that was never valid, is not an error: either way no session is left.
func (s *Service) Logout(ctx context.Context, token string) error {
	if s.Store == nil {
		return ErrNoStore
	}
	if token == "" {
		return nil
	}
	err := s.Store.DeleteSession(ctx, hashToken(token))
	if err != nil && onair.ErrorCode(err) != onair.ENotFound {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// UserByToken returns the user a session token belongs to, or
// ErrNoSession when the token is unknown, logged out or expired.
func (s *Service) UserByToken(ctx context.Context, token string) (*onair.User, error) {
	if s.Store == nil {
		return nil, ErrNoStore
	}
	if token == "" {
		return nil, fmt.Errorf("auth: session: %w", ErrNoSession)
	}
	u, err := s.Store.UserBySession(ctx, hashToken(token))
	if onair.ErrorCode(err) == onair.ENotFound {
		return nil, fmt.Errorf("auth: session: %w", ErrNoSession)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: session: %w", err)
	}
	return u, nil
}

// Register creates a listener account, as anyone may.
func (s *Service) Register(ctx context.Context, username, password string) (*onair.User, error) {
	return s.CreateUser(ctx, username, password, onair.RoleListener)
}

// CreateUser creates an account with any role; the caller decides who may.
// A name taken in any letter case is EConflict.
func (s *Service) CreateUser(ctx context.Context, username, password string, role onair.Role) (*onair.User, error) {
	if s.Store == nil {
		return nil, ErrNoStore
	}
	if err := ValidateUsername(username); err != nil {
		return nil, fmt.Errorf("auth: create user %q: %w", username, err)
	}
	if err := ValidatePassword(password); err != nil {
		return nil, fmt.Errorf("auth: create user %q: %w", username, err)
	}
	if !role.Valid() {
		return nil, fmt.Errorf("auth: create user %q: %w", username,
			onair.Errorf(onair.EInvalid, "role must be admin, owner or listener"))
	}
	return s.create(ctx, username, password, role)
}

func (s *Service) create(ctx context.Context, username, password string, role onair.Role) (*onair.User, error) {
	hash, err := s.hash(password)
	if err != nil {
		return nil, fmt.Errorf("auth: create user %q: %w", username, err)
	}
	u, err := s.Store.CreateUser(ctx, username, hash, role)
	if err != nil {
		return nil, fmt.Errorf("auth: create user %q: %w", username, err)
	}
	return u, nil
}

// EnsureAdmin bootstraps the first admin at start-up: when no admin exists
// and password is not empty, it creates user "admin" with that password.
// It reports whether it created one; with an admin present it does
// nothing, so it is safe at every start.
//
// configs refuses an admin.password shorter than 8 characters before
// this runs; here any non-empty password up to 72 bytes is accepted.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (bool, error) {
	if s.Store == nil {
		return false, ErrNoStore
	}
	n, err := s.Store.CountAdmins(ctx)
	if err != nil {
		return false, fmt.Errorf("auth: ensure admin: %w", err)
	}
	if n > 0 || password == "" {
		return false, nil
	}
	switch err := s.adminNameFree(ctx); {
	case errors.Is(err, errAdminExists):
		return false, nil
	case err != nil:
		return false, err
	}
	_, err = s.create(ctx, AdminUsername, password, onair.RoleAdmin)
	if onair.ErrorCode(err) == onair.EConflict {
		// Another process bootstrapped at the same moment: fine if it
		// made an admin.
		if err := s.adminNameFree(ctx); errors.Is(err, errAdminExists) {
			return false, nil
		}
	}
	if err != nil {
		return false, fmt.Errorf("auth: ensure admin: %w", err)
	}
	return true, nil
}

// errAdminExists means the name "admin" is taken by an admin already.
var errAdminExists = errors.New("auth: admin exists")

// adminNameFree checks that "admin" can be created: nil when nobody has
// the name, errAdminExists when an admin has it, and an explanation when a
// non-admin does.
func (s *Service) adminNameFree(ctx context.Context) error {
	u, _, err := s.Store.UserByUsername(ctx, AdminUsername)
	switch {
	case onair.ErrorCode(err) == onair.ENotFound:
		return nil
	case err != nil:
		return fmt.Errorf("auth: ensure admin: %w", err)
	case u.Role == onair.RoleAdmin:
		return errAdminExists
	default:
		return fmt.Errorf("auth: ensure admin: %w", onair.Errorf(onair.EConflict,
			"there is no admin, and user %q exists with role %q, so it cannot become one; "+
				"create an admin under another name (onair user add NAME --role admin) or rename that account",
			u.Username, u.Role))
	}
}
