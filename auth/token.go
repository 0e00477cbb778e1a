package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// tokenBytes is the entropy of a session token: 256 bits, far beyond
// guessing, which is what lets a plain hash stand in for a password hash.
const tokenBytes = 32

// newToken returns a fresh session token: 32 random bytes, base64url
// without padding (43 characters, safe in cookies, headers and URLs).
func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: new token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashToken is what the store keeps instead of the token, so a leaked
// database or backup holds no usable session. SHA-256 without salt or
// stretching is enough here, unlike for passwords: the token is 256 random
// bits, so there is no dictionary to try.
//
// Lookups go through this hash, so no constant-time comparison is needed:
// an attacker timing the database's index search learns at best how many
// leading characters of some stored hash their guess's hash shares, and
// choosing a guess whose SHA-256 matches more of a stored hash is a
// preimage search, which is infeasible.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
