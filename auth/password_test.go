package auth

import (
	"testing"
	"unicode/utf8"
)

func FuzzValidateUsername(f *testing.F) {
	for _, s := range []string{"admin", "a1_b-c.D", "ab", "_x", "ivän", "", "x\x00yz", "abc "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateUsername(name) != nil {
			return
		}
		// Whatever is accepted keeps every promise of the rule.
		if len(name) < MinUsername || len(name) > MaxUsername {
			t.Fatalf("accepted %q of length %d", name, len(name))
		}
		for i, r := range name {
			alnum := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
			if !alnum && (i == 0 || r != '_' && r != '-' && r != '.') {
				t.Fatalf("accepted %q with %q at %d", name, r, i)
			}
		}
		if !utf8.ValidString(name) {
			t.Fatalf("accepted invalid UTF-8 %q", name)
		}
	})
}
