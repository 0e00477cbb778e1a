package ingest

import (
	"io"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dhowden/tag"
)

// MaxTextRunes caps every title, artist, album and file name: tags may
// hold anything, and these strings go to every listener on each track
// change.
const MaxTextRunes = 256

// readTags returns the cleaned ID3 title, artist and album of r, empty
// where there is none. ID3v2 comes first; a field it lacks is taken from
// an ID3v1 tag if there is one. A tag that cannot be read is no reason to
// refuse a file that plays, so errors only leave fields empty.
func readTags(r io.ReadSeeker) (title, artist, album string) {
	if m := readMeta(r, tag.ReadFrom); m != nil {
		title, artist, album = m.Title(), m.Artist(), m.Album()
		if m.Format() == tag.ID3v1 {
			title, artist, album = v1Field(title), v1Field(artist), v1Field(album)
		}
	}
	if title == "" || artist == "" || album == "" {
		if m := readMeta(r, tag.ReadID3v1Tags); m != nil {
			title = or(title, v1Field(m.Title()))
			artist = or(artist, v1Field(m.Artist()))
			album = or(album, v1Field(m.Album()))
		}
	}
	return cleanText(title), cleanText(artist), cleanText(album)
}

// readMeta runs a tag reader from the start of r. The tag library parses
// untrusted bytes; a panic in it counts as no tag.
func readMeta(r io.ReadSeeker, read func(io.ReadSeeker) (tag.Metadata, error)) (m tag.Metadata) {
	defer func() {
		if recover() != nil {
			m = nil
		}
	}()
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	m, err := read(r)
	if err != nil {
		return nil
	}
	return m
}

// v1Field cuts an ID3v1 field at its terminating NUL: what follows is
// leftover bytes, not text.
func v1Field(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cleanText makes a tag or file name fit for display: invalid UTF-8 read
// as Latin-1 (ID3v1 and old ID3v2 text), NUL-separated values (ID3v2.4)
// joined with " / ", control and bidi-override characters removed,
// whitespace runs collapsed, trimmed, and capped at MaxTextRunes. Other
// Unicode is kept as is.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = latin1(s)
	}
	var parts []string
	for p := range strings.SplitSeq(s, "\x00") {
		if p = strings.Join(strings.Fields(strings.Map(keepRune, p)), " "); p != "" {
			parts = append(parts, p)
		}
	}
	s = strings.Join(parts, " / ")
	if utf8.RuneCountInString(s) > MaxTextRunes {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:MaxTextRunes]))
	}
	return s
}

// keepRune turns control whitespace into spaces and drops other control
// characters, the byte order mark and the invisible bidi controls that can
// make a title display as something else.
func keepRune(r rune) rune {
	switch {
	case r == '\uFEFF', r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return -1
	case unicode.IsControl(r) && unicode.IsSpace(r):
		return ' '
	case unicode.IsControl(r):
		return -1
	}
	return r
}

func latin1(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// CleanFilename returns the base name of an uploader's file name, cleaned
// for display: no directories (either slash), no control characters,
// "upload.mp3" when nothing usable is left. It is never used as a path.
func CleanFilename(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = cleanText(name)
	if name == "" || name == "." || name == ".." {
		return "upload.mp3"
	}
	return name
}

// titleFromFilename is the fallback title: the file name without its
// extension.
func titleFromFilename(name string) string {
	if t := strings.TrimSpace(strings.TrimSuffix(name, filepath.Ext(name))); t != "" {
		return t
	}
	return name
}
