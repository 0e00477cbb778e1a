package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashAndCheckPassword(t *testing.T) {
	s := &Service{Cost: bcrypt.MinCost}
	if _, err := s.HashPassword("short"); err == nil {
		t.Fatal("a 5-character password was hashed")
	}
	h, err := s.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse", true},
		{h, "correct horsE", false},
		{"", "correct horse", false},
		{h, "", false},
	} {
		if got := s.CheckPassword(tc.hash, tc.pw); got != tc.want {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", tc.hash, tc.pw, got, tc.want)
		}
	}
}
