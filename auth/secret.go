package auth

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword validates a new password and hashes it as account
// passwords are, for credentials kept outside the users table (a station's
// streamers).
func (s *Service) HashPassword(password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return s.hash(password)
}

// CheckPassword reports whether password matches hash. An empty hash
// matches nothing but still costs a bcrypt check, so a caller that found
// no account takes as long as one that found a wrong password.
func (s *Service) CheckPassword(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password)) // for the time it takes
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil && len(password) <= MaxPasswordBytes
}
