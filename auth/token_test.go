package auth

import (
	"encoding/base64"
	"testing"
)

func TestTokensAreLongRandomAndURLSafe(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, err := newToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 {
			t.Fatalf("token %q is %d characters, want 43", tok, len(tok))
		}
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != 32 {
			t.Fatalf("token %q: %d bytes, %v; want 32 bytes of base64url", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 of "abc", a published test vector.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := hashToken("abc"); got != want {
		t.Errorf("hashToken(abc) = %s, want %s", got, want)
	}
}
