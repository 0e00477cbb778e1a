// Package icy owns the ICY (SHOUTcast/Icecast) in-band metadata of HTTP
// streams: encoding title blocks, interleaving them with shared audio for one
// listener without copying it, and reading such a stream back.
package icy

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxBlockLen is the largest encoded block: the length byte holds at
	// most 255, counted in units of 16 bytes.
	MaxBlockLen = 1 + 255*16

	titlePrefix = "StreamTitle='"
	titleSuffix = "';"

	// MaxTitleLen is the longest title, in bytes after cleaning, that fits
	// one block. Longer titles are cut at a UTF-8 boundary.
	MaxTitleLen = MaxBlockLen - 1 - len(titlePrefix) - len(titleSuffix)
)

// empty is the one-byte "no change" block every Framer inserts. Its capacity
// is 1 so an append to it by a consumer reallocates instead of writing past it.
var empty = []byte{0}[:1:1]

// Empty returns the shared one-byte block (length 0) that tells a client the
// title is unchanged. It is a function, not a variable, so no caller can
// swap it; the returned bytes are shared by every listener of the process
// and must never be written to (net.Buffers and writev only read them).
func Empty() []byte { return empty }

// Block returns the encoded metadata block for title: a length byte L and
// L*16 bytes holding StreamTitle='title'; padded with NULs. An empty title
// gives a full block that clears the title in players, not the one-byte
// "unchanged" block:
//
//	StreamTitle='';
//
// The title is cleaned first, because players parse it with string
// searches, not a grammar:
//   - invalid UTF-8 becomes U+FFFD and control characters (NUL, CR, LF,
//     tab, DEL, C1) become spaces: a NUL ends the string in C players and a
//     newline breaks their logs and displays;
//   - a ';' that directly follows a quote (the opening one included) gets a
//     space before it. VLC, ffmpeg (so mpv) and most other players end the
//     title at the first "';", so "Rock'; Roll" would otherwise show as
//     "Rock". Inserting a space keeps every character the user typed and
//     stays ASCII, which matters because ICY has no charset and many players
//     decode it as Latin-1 (a typographic apostrophe would turn into
//     mojibake there). A lone ';' is kept: it is ordinary text, and the few
//     naive parsers that stop at any ';' cut such titles with Icecast too.
//   - a title longer than MaxTitleLen bytes is cut at a UTF-8 boundary.
//
// The result is a fresh slice. Callers share it between listeners, so it
// must not be modified once handed to a Framer.
func Block(title string) []byte {
	t := truncateUTF8(cleanTitle(title), MaxTitleLen)
	n := len(titlePrefix) + len(t) + len(titleSuffix)
	units := (n + 15) / 16
	b := make([]byte, 1+16*units) // zeroed: the NUL padding comes for free
	b[0] = byte(units)
	p := b[1:]
	p = p[copy(p, titlePrefix):]
	p = p[copy(p, t):]
	copy(p, titleSuffix)
	return b
}

// cleanTitle applies the character rules documented on Block; the length
// limit is applied by the caller.
func cleanTitle(s string) string {
	if isPlainTitle(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	afterQuote := true // the opening quote of StreamTitle='
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			// invalid byte: written below as U+FFFD
		case unicode.IsControl(r):
			r = ' '
		case r == ';' && afterQuote:
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		afterQuote = r == '\''
	}
	return b.String()
}

// isPlainTitle reports whether s needs no cleaning: printable ASCII, no ';'
// after a quote. Most titles take this path without allocating.
func isPlainTitle(s string) bool {
	prev := byte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || (c == ';' && prev == '\'') {
			return false
		}
		prev = c
	}
	return true
}

// truncateUTF8 cuts valid UTF-8 s to at most max bytes without splitting a
// rune.
func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// wellFormed reports whether b has the shape of an encoded block: a length
// byte and exactly that many 16-byte units.
func wellFormed(b []byte) bool {
	return len(b) > 0 && len(b) == 1+16*int(b[0])
}

// ParseStreamTitle returns the StreamTitle of an encoded block (length byte
// included), as players read it: the text after StreamTitle=' up to the
// first "';". The payload ends at the first NUL. ok is false for the
// one-byte "unchanged" block, a block whose length byte disagrees with its
// size, and a block without a terminated StreamTitle entry at the start of
// the payload or after a ';'.
func ParseStreamTitle(block []byte) (title string, ok bool) {
	if !wellFormed(block) || block[0] == 0 {
		return "", false
	}
	p := block[1:]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	i := bytes.Index(p, []byte(titlePrefix))
	if i < 0 || (i > 0 && p[i-1] != ';') {
		return "", false
	}
	rest := p[i+len(titlePrefix):]
	j := bytes.Index(rest, []byte(titleSuffix))
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
}
