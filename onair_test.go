package onair

import "testing"

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"Night Owl Radio":   "Night Owl Radio",
		"a\r\nicy-evil: 1":  "a  icy-evil: 1",
		"tab\there\x00\x7f": "tab here  ",
		"Café ♪ Ünïcödé":    "Café ♪ Ünïcödé",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
