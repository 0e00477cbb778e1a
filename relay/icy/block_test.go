package icy

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkBlockShape fails unless b is a minimal, well-formed block whose
// payload is StreamTitle='...'; followed only by NUL padding.
func checkBlockShape(t *testing.T, b []byte) {
	t.Helper()
	if len(b) == 0 || len(b) > MaxBlockLen || len(b) != 1+16*int(b[0]) || b[0] == 0 {
		t.Fatalf("bad block size %d with length byte %d", len(b), b[0])
	}
	p := b[1:]
	if !bytes.HasPrefix(p, []byte("StreamTitle='")) {
		t.Fatalf("payload does not start with StreamTitle=': %q", p)
	}
	end := bytes.LastIndex(p, []byte("';"))
	if end < 0 || len(bytes.Trim(p[end+2:], "\x00")) != 0 {
		t.Fatalf("payload not terminated by '; and NUL padding: %q", p)
	}
	if pad := len(p) - (end + 2); pad > 15 {
		t.Fatalf("%d bytes of padding: the block is not minimal", pad)
	}
	title := p[len("StreamTitle='"):end]
	if bytes.IndexByte(title, 0) >= 0 || bytes.Contains(title, []byte("';")) || bytes.HasPrefix(title, []byte(";")) {
		t.Fatalf("title would end early in players: %q", title)
	}
	if !utf8.Valid(title) {
		t.Fatalf("title is not valid UTF-8: %q", title)
	}
}

func TestBlockExactBytes(t *testing.T) {
	tests := []struct {
		title string
		want  string
	}{
		{"", "\x01StreamTitle='';\x00"},
		{"a", "\x01StreamTitle='a';"}, // 16 bytes: no padding
		{"ab", "\x02StreamTitle='ab';" + strings.Repeat("\x00", 15)},
		{"Artist - Title", "\x02StreamTitle='Artist - Title';\x00\x00\x00"},
	}
	for _, tt := range tests {
		if got := Block(tt.title); string(got) != tt.want {
			t.Errorf("Block(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

func TestBlockCleansTitles(t *testing.T) {
	tests := []struct {
		name, title, want string
	}{
		{"plain", "Artist - Title", "Artist - Title"},
		{"empty", "", ""},
		{"unicode", "Sigur Rós – Hoppípolla ♫ 日本語 🎵", "Sigur Rós – Hoppípolla ♫ 日本語 🎵"},
		{"apostrophes", "Guns N' Roses - Sweet Child o' Mine", "Guns N' Roses - Sweet Child o' Mine"},
		{"lone semicolon kept", "Act 1; Scene 2", "Act 1; Scene 2"},
		{"quote semicolon split", "Rock'; Roll", "Rock' ; Roll"},
		{"repeated", "a';b';", "a' ;b' ;"},
		{"leading semicolon", ";intro", " ;intro"},
		{"trailing quote", "end'", "end'"},
		{"only quotes", "''", "''"},
		{"NUL", "a\x00b", "a b"},
		{"newlines and tab", "a\r\nb\tc", "a  b c"},
		{"DEL and C1", "a\x7fb\u0085c", "a b c"},
		{"invalid UTF-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"quote then control then semicolon", "x'\n;", "x' ;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Block(tt.title)
			checkBlockShape(t, b)
			got, ok := ParseStreamTitle(b)
			if !ok || got != tt.want {
				t.Fatalf("ParseStreamTitle(Block(%q)) = %q, %v; want %q, true", tt.title, got, ok, tt.want)
			}
		})
	}
}

func TestBlockTruncatesLongTitles(t *testing.T) {
	tests := []struct {
		name  string
		title string
	}{
		{"ASCII 5000 bytes", strings.Repeat("a", 5000)},
		{"2-byte runes 5000 bytes", strings.Repeat("é", 2500)},
		{"3-byte runes", strings.Repeat("日", 1700)},
		{"4-byte runes", strings.Repeat("🎵", 1250)},
		{"offset 4-byte runes", "a" + strings.Repeat("🎵", 1250)},
		{"grows when cleaned", strings.Repeat("';", 2500)},
		{"invalid bytes grow to U+FFFD", strings.Repeat("\xff", 5000)},
		{"exactly the maximum", strings.Repeat("m", MaxTitleLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Block(tt.title)
			checkBlockShape(t, b)
			got, _ := ParseStreamTitle(b)
			full := cleanTitle(tt.title)
			if !strings.HasPrefix(full, got) {
				t.Fatalf("title is not a prefix of the cleaned input")
			}
			if len(got) > MaxTitleLen || len(got) <= MaxTitleLen-utf8.UTFMax {
				t.Fatalf("title cut to %d bytes, want the longest fit <= %d", len(got), MaxTitleLen)
			}
			if len(b) != MaxBlockLen {
				t.Fatalf("block is %d bytes, want %d", len(b), MaxBlockLen)
			}
		})
	}
}

func TestParseStreamTitle(t *testing.T) {
	pad := func(payload string) []byte {
		units := (len(payload) + 15) / 16
		b := make([]byte, 1+16*units)
		b[0] = byte(units)
		copy(b[1:], payload)
		return b
	}
	tests := []struct {
		name   string
		block  []byte
		want   string
		wantOK bool
	}{
		{"ours", Block("A - B"), "A - B", true},
		{"with StreamUrl after", pad("StreamTitle='A - B';StreamUrl='http://x/';"), "A - B", true},
		{"StreamUrl first", pad("StreamUrl='u';StreamTitle='T';"), "T", true},
		{"empty title", pad("StreamTitle='';"), "", true},
		{"stops at NUL", pad("StreamTitle='A\x00B';"), "", false},
		{"nil", nil, "", false},
		{"unchanged block", []byte{0}, "", false},
		{"length byte too big", append([]byte{2}, pad("StreamTitle='A';")[1:]...), "", false},
		{"length byte too small", append([]byte{0}, make([]byte, 16)...), "", false},
		{"no StreamTitle", pad("StreamUrl='u';"), "", false},
		{"unterminated", pad("StreamTitle='abc"), "", false},
		{"quote but no semicolon", pad("StreamTitle='abc'"), "", false},
		{"key not at a boundary", pad("XStreamTitle='abc';"), "", false},
		{"all NUL", make([]byte, 17), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseStreamTitle(tt.block)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("got %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	e := Empty()
	if len(e) != 1 || cap(e) != 1 || e[0] != 0 {
		t.Fatalf("Empty() = %v (cap %d), want [0] with cap 1", e, cap(e))
	}
	if &Empty()[0] != &e[0] {
		t.Fatal("Empty() must return the one shared block")
	}
}

func TestBlockPlainTitlesDoNotAllocateWhenCleaned(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = cleanTitle("Artist - Title") })
	if allocs != 0 {
		t.Fatalf("cleaning a plain title allocated %.0f times", allocs)
	}
}
