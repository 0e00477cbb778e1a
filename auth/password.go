package auth

import (
	"unicode/utf8"

	"github.com/onairfm/onair"
)

// Limits on account names and passwords.
const (
	MinUsername = 3
	MaxUsername = 32
	// MinPassword is counted in characters: what a person typed.
	MinPassword = 8
	// MaxPasswordBytes is bcrypt's limit: it ignores anything past 72
	// bytes, so a longer password would silently be a shorter one. It is
	// bytes, not characters: 24 three-byte characters already reach it.
	MaxPasswordBytes = 72
)

// ValidateUsername checks an account name: 3 to 32 ASCII letters, digits,
// '_', '-' or '.', starting with a letter or digit. ASCII only, so two
// names that look the same are the same name (the store compares letter
// case insensitively).
func ValidateUsername(name string) error {
	if name == "" {
		return onair.Errorf(onair.EInvalid, "username is required")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if i == 0 && !alnum {
			return onair.Errorf(onair.EInvalid, "username must start with a letter or digit")
		}
		if !alnum && c != '_' && c != '-' && c != '.' {
			return onair.Errorf(onair.EInvalid, "username may contain only letters, digits, '_', '-' and '.'")
		}
	}
	if len(name) < MinUsername || len(name) > MaxUsername {
		return onair.Errorf(onair.EInvalid, "username must be %d to %d characters long", MinUsername, MaxUsername)
	}
	return nil
}

// ValidatePassword checks a new password: at least 8 characters and at
// most 72 bytes.
func ValidatePassword(password string) error {
	if utf8.RuneCountInString(password) < MinPassword {
		return onair.Errorf(onair.EInvalid, "password must be at least %d characters long", MinPassword)
	}
	return checkPasswordBytes(password)
}

// checkPasswordBytes refuses what bcrypt would truncate.
func checkPasswordBytes(password string) error {
	if len(password) > MaxPasswordBytes {
		return onair.Errorf(onair.EInvalid, "password must be at most %d bytes long (the bcrypt limit)", MaxPasswordBytes)
	}
	return nil
}
