package ingest

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dhowden/tag"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/decode"
)

// MaxTextRunes caps every title, artist, album and file name: tags may
// hold anything, and these strings go to every listener on each track
// change.
const MaxTextRunes = 256

// Tag bounds. Tags are untrusted and parsed by a library that is
// quadratic in the number of ID3 frames of one name (10,000 tiny frames
// cost it seconds), so it only ever sees a bounded copy holding the few
// frames or blocks that are used.
const (
	// maxTagBytes is the largest ID3v2 tag or FLAC metadata read; a
	// larger one is ignored (titles then come from an ID3v1 tag or the
	// file name).
	maxTagBytes = 8 << 20
	// maxTagFrames is how many ID3v2 frames or FLAC metadata blocks are
	// looked at: real files have tens.
	maxTagFrames = 1024
	// maxCommentBytes bounds a FLAC Vorbis comment block.
	maxCommentBytes = 256 << 10
	// maxInfoBytes bounds a WAV LIST/INFO chunk.
	maxInfoBytes = 64 << 10
)

// MaxArtBytes is the largest cover art kept; a larger picture is dropped
// (the track is still accepted).
const MaxArtBytes = 2 << 20

// tags is what ingest keeps of a file's tags.
type tags struct {
	title, artist, album string
	art                  []byte
	artMIME              string
}

// readTags reads the cleaned title, artist, album and cover art of f,
// empty where there is none. MP3: ID3v2, with fields it lacks taken from
// an ID3v1 tag. FLAC: Vorbis comments and the PICTURE block. WAV: the
// LIST/INFO chunk (INAM, IART, IPRD), or an "id3 " chunk. A tag that
// cannot be read is no reason to refuse a file that plays, so errors only
// leave fields empty.
func readTags(f *os.File, format string, wav *decode.WAVInfo) tags {
	var t tags
	var m tag.Metadata
	switch format {
	case onair.FormatMP3:
		if b := boundedID3v2(f, 0); b != nil {
			m = readMeta(bytes.NewReader(b), tag.ReadFrom)
		}
	case onair.FormatFLAC:
		if b := boundedFLACMeta(f); b != nil {
			m = readMeta(bytes.NewReader(b), tag.ReadFrom)
		}
	case onair.FormatWAV:
		if wav == nil {
			break
		}
		for _, id := range []string{"id3 ", "ID3 "} {
			if c, ok := wav.Chunks[id]; ok {
				if b := boundedID3v2(f, c[0]); b != nil {
					m = readMeta(bytes.NewReader(b), tag.ReadFrom)
				}
				break
			}
		}
		if m == nil {
			if c, ok := wav.Chunks["LIST"]; ok {
				t.title, t.artist, t.album = riffInfo(f, c[0], c[1])
			}
		}
	}
	if m != nil {
		t.title, t.artist, t.album = m.Title(), m.Artist(), m.Album()
		t.art, t.artMIME = artOf(m.Picture())
	}
	if format == onair.FormatMP3 && (t.title == "" || t.artist == "" || t.album == "") {
		if m := readMeta(f, tag.ReadID3v1Tags); m != nil {
			t.title = or(t.title, v1Field(m.Title()))
			t.artist = or(t.artist, v1Field(m.Artist()))
			t.album = or(t.album, v1Field(m.Album()))
		}
	}
	t.title, t.artist, t.album = cleanText(t.title), cleanText(t.artist), cleanText(t.album)
	return t
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

// id3Keep lists the ID3v2 frames ingest uses, for each version: title,
// artist, album, picture.
var id3Keep = map[byte][]string{
	2: {"TT2", "TP1", "TAL", "PIC"},
	3: {"TIT2", "TPE1", "TALB", "APIC"},
	4: {"TIT2", "TPE1", "TALB", "APIC"},
}

// boundedID3v2 returns a copy of the ID3v2 tag at off in r rebuilt with
// only the first frame of each kind in id3Keep, or nil when there is no
// usable tag there. It reads at most maxTagBytes and walks at most
// maxTagFrames frames, so its cost is bounded whatever the tag holds.
func boundedID3v2(r io.ReaderAt, off int64) []byte {
	var h [10]byte
	if _, err := r.ReadAt(h[:], off); err != nil || string(h[:3]) != "ID3" {
		return nil
	}
	ver, flags := h[3], h[5]
	keep, ok := id3Keep[ver]
	if !ok || (h[6]|h[7]|h[8]|h[9])&0x80 != 0 {
		return nil
	}
	size := int64(h[6])<<21 | int64(h[7])<<14 | int64(h[8])<<7 | int64(h[9])
	if size > maxTagBytes {
		return nil
	}
	body := make([]byte, size)
	if n, _ := r.ReadAt(body, off+10); int64(n) != size {
		return nil
	}
	if flags&0x80 != 0 && ver < 4 {
		// Tag-wide unsynchronisation: frame sizes count the bytes
		// after it is undone.
		body = bytes.ReplaceAll(body, []byte{0xFF, 0x00}, []byte{0xFF})
		flags &^= 0x80
	}
	p := 0
	if flags&0x40 != 0 && ver >= 3 && len(body) >= 4 {
		// Skip the extended header.
		if ver == 3 {
			p = 4 + int(binary.BigEndian.Uint32(body))
		} else {
			p = int(body[0])<<21 | int(body[1])<<14 | int(body[2])<<7 | int(body[3])
		}
	}
	flags &^= 0x40 | 0x10
	hdr := 10
	if ver == 2 {
		hdr = 6
	}
	var out []byte
	seen := make(map[string]bool, len(keep))
	for range maxTagFrames {
		if p < 0 || p+hdr > len(body) || body[p] == 0 || len(seen) == len(keep) {
			break
		}
		var id string
		var n int
		switch ver {
		case 2:
			id, n = string(body[p:p+3]), int(body[p+3])<<16|int(body[p+4])<<8|int(body[p+5])
		case 3:
			id, n = string(body[p:p+4]), int(binary.BigEndian.Uint32(body[p+4:]))
		default:
			id, n = string(body[p:p+4]), int(body[p+4])<<21|int(body[p+5])<<14|int(body[p+6])<<7|int(body[p+7])
		}
		end := p + hdr + n
		if n < 0 || end > len(body) || end < p {
			break
		}
		if !seen[id] && slices.Contains(keep, id) {
			seen[id] = true
			out = append(out, body[p:end]...)
		}
		p = end
	}
	if len(out) == 0 {
		return nil
	}
	n := len(out)
	tagHdr := []byte{'I', 'D', '3', ver, h[4], flags,
		byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	return append(tagHdr, out...)
}

// boundedFLACMeta returns "fLaC" and the first Vorbis comment and picture
// blocks of r (a front cover if there is one), read within bounds, or nil.
func boundedFLACMeta(r io.ReaderAt) []byte {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "fLaC" {
		return nil
	}
	type block struct {
		off  int64
		size int
		typ  byte
	}
	var comment, picture *block
	off := int64(4)
	for range maxTagFrames {
		var h [4]byte
		if _, err := r.ReadAt(h[:], off); err != nil || off > maxTagBytes {
			break
		}
		typ, size := h[0]&0x7F, int(h[1])<<16|int(h[2])<<8|int(h[3])
		b := &block{off + 4, size, typ}
		switch {
		case typ == 4 && comment == nil && size <= maxCommentBytes:
			comment = b
		case typ == 6 && size <= MaxArtBytes+64<<10:
			if picture == nil || pictureType(r, picture.off) != 3 && pictureType(r, b.off) == 3 {
				picture = b
			}
		}
		off += 4 + int64(size)
		if h[0]&0x80 != 0 {
			break
		}
	}
	out := []byte("fLaC")
	var kept []*block
	for _, b := range []*block{comment, picture} {
		if b != nil {
			kept = append(kept, b)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	for i, b := range kept {
		h := b.typ
		if i == len(kept)-1 {
			h |= 0x80
		}
		out = append(out, h, byte(b.size>>16), byte(b.size>>8), byte(b.size))
		body := make([]byte, b.size)
		if n, _ := r.ReadAt(body, b.off); n != b.size {
			return nil
		}
		out = append(out, body...)
	}
	return out
}

// pictureType is the picture type (3 is the front cover) of the FLAC
// PICTURE block body at off.
func pictureType(r io.ReaderAt, off int64) uint32 {
	var b [4]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return 0
	}
	return binary.BigEndian.Uint32(b[:])
}

// riffInfo reads title, artist and album from a WAV LIST chunk's body, if
// it is an INFO list.
func riffInfo(r io.ReaderAt, off, size int64) (title, artist, album string) {
	if size < 4 || size > maxInfoBytes {
		return "", "", ""
	}
	b := make([]byte, size)
	if n, _ := r.ReadAt(b, off); int64(n) != size || string(b[:4]) != "INFO" {
		return "", "", ""
	}
	for p := 4; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		end := p + 8 + n
		if n < 0 || end > len(b) || end < p {
			break
		}
		v := strings.TrimRight(string(b[p+8:end]), "\x00")
		switch id {
		case "INAM":
			title = v
		case "IART":
			artist = v
		case "IPRD":
			album = v
		}
		p = end + n&1
	}
	return title, artist, album
}

// Cover art types accepted, by their first bytes.
var artTypes = []struct {
	mime  string
	magic func([]byte) bool
}{
	{"image/jpeg", func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) }},
	{"image/png", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }},
	{"image/gif", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	}},
	{"image/webp", func(b []byte) bool {
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	}},
}

// artOf returns a tag picture's bytes and type when it is a JPEG, PNG,
// GIF or WebP image (by its bytes, which must agree with the type the tag
// declares, if it declares a known one) of at most MaxArtBytes.
func artOf(p *tag.Picture) ([]byte, string) {
	if p == nil || len(p.Data) == 0 || len(p.Data) > MaxArtBytes {
		return nil, ""
	}
	declared := strings.ToLower(strings.TrimSpace(p.MIMEType))
	if declared == "image/jpg" {
		declared = "image/jpeg"
	}
	for _, t := range artTypes {
		if t.magic(p.Data) {
			if declared != "" && declared != t.mime && isArtType(declared) {
				return nil, ""
			}
			return p.Data, t.mime
		}
	}
	return nil, ""
}

func isArtType(mime string) bool {
	for _, t := range artTypes {
		if t.mime == mime {
			return true
		}
	}
	return false
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
// "upload" when nothing usable is left. It is never used as a path.
func CleanFilename(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = cleanText(name)
	if name == "" || name == "." || name == ".." {
		return "upload"
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
