package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/jfreymuth/vorbis"
	"github.com/thesyncim/gopus"

	"github.com/onairfm/onair/audio/mp3dec"
	"github.com/onairfm/onair/ingest/mp3"
)

// decoder turns a source's bytes into PCM, pulling from the connection as
// it needs. Its memory is bounded whatever the source sends.
type decoder interface {
	// decode returns the next PCM, interleaved at format(); the slice is
	// reused by the next call.
	decode() ([]float32, error)
	// format is the rate and channels, known once decode returned audio.
	format() (rate, channels int)
	// title returns the artist and title the stream itself announced
	// (Ogg comments) since the last call, if it did.
	title() (artist, title string, ok bool)
	// codec names the format for logs.
	codec() string
}

// newDecoder picks a decoder by Content-Type, as Icecast does: audio/mpeg
// is MP3; audio/ogg (or application/ogg) is Ogg Opus or Ogg Vorbis, told
// apart by the stream's first packet.
func newDecoder(contentType string, r io.Reader) (decoder, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && contentType != "" {
		return nil, fmt.Errorf("live: Content-Type %q: %w", contentType, ErrUnsupported)
	}
	switch strings.ToLower(mt) {
	case "audio/mpeg", "audio/mp3", "audio/mpeg3":
		return newMP3Decoder(r), nil
	case "audio/ogg", "application/ogg", "audio/opus", "audio/vorbis":
		return &oggDecoder{ogg: newOggReader(r)}, nil
	case "":
		return nil, fmt.Errorf("live: no Content-Type (send audio/mpeg or audio/ogg): %w", ErrUnsupported)
	}
	return nil, fmt.Errorf("live: Content-Type %q (send audio/mpeg or audio/ogg): %w", mt, ErrUnsupported)
}

// MP3: the scanner finds checked frames in the byte stream and mp3dec
// decodes them, one frame at a time.

// Garbage limits: a source may send a tag before its first frame, but
// junk between frames beyond a few kilobytes is not an MP3 stream.
const (
	maxLeadingJunk = 256 << 10
	maxJunk        = 64 << 10
)

type mp3Decoder struct {
	guard guardReader
	scan  *mp3.Scanner
	dec   *mp3dec.Decoder
	first mp3.Header
	has   bool
	pcm   [2 * 1152]float32
}

func newMP3Decoder(r io.Reader) *mp3Decoder {
	d := &mp3Decoder{dec: mp3dec.New()}
	d.guard = guardReader{r: r, limit: maxLeadingJunk}
	d.scan = mp3.NewScanner(&d.guard)
	return d
}

func (d *mp3Decoder) codec() string { return "mp3" }

func (d *mp3Decoder) format() (int, int) {
	if !d.has {
		return 0, 0
	}
	return d.first.SampleRate, 2 // mp3dec writes stereo
}

func (d *mp3Decoder) title() (string, string, bool) { return "", "", false }

// decode decodes the next frame. A frame whose main data is damaged still
// plays, its damaged part silent: a live source goes on, as a player
// would. The first frames find no bit reservoir yet and are silent.
func (d *mp3Decoder) decode() ([]float32, error) {
	for {
		fr, err := d.scan.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, err
		}
		// A frame is only "recent" data once the scanner confirmed it;
		// it keeps up to a buffer of lookahead, so allow that much.
		d.guard.since, d.guard.limit = 0, maxJunk+64<<10
		if err := d.check(fr.Header); err != nil {
			return nil, err
		}
		n, err := d.dec.DecodeFrame(fr.Data, d.pcm[:])
		if err != nil && !errors.Is(err, mp3dec.ErrCorrupt) {
			return nil, fmt.Errorf("live: mp3: %w: %w", ErrDecode, err)
		}
		if n > 0 {
			return d.pcm[:n], nil
		}
	}
}

func (d *mp3Decoder) check(h mp3.Header) error {
	if h.Layer != 3 {
		return fmt.Errorf("live: mp3: MPEG %s layer %d audio: %w", h.Version, h.Layer, ErrUnsupported)
	}
	if !d.has {
		d.first, d.has = h, true
		return nil
	}
	if !h.SameFormat(d.first) {
		return fmt.Errorf("live: mp3: %s %d Hz after %s %d Hz: %w", h.Version, h.SampleRate, d.first.Version, d.first.SampleRate, ErrFormatChange)
	}
	return nil
}

// guardReader counts the bytes read since the last audio frame and fails
// past its limit: a source sending something else is dropped after
// bounded work.
type guardReader struct {
	r     io.Reader
	since int
	limit int
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.since > g.limit {
		return 0, fmt.Errorf("live: no audio frame in %d bytes: %w", g.since, ErrGarbage)
	}
	n, err := g.r.Read(p)
	g.since += n
	return n, err
}

// Ogg: Opus (RFC 7845) or Vorbis I, one logical stream after another.

// opusRate is the rate Opus is decoded at.
const opusRate = 48000

type oggDecoder struct {
	ogg   *oggReader
	kind  string // "opus" or "vorbis", from the first stream
	rate  int
	ch    int
	opus  *gopus.Decoder
	vorb  *vorbis.Decoder
	heads int // Vorbis headers read in the current stream
	pcm   []float32

	artist, song string
	newTitle     bool
}

func (d *oggDecoder) codec() string {
	if d.kind == "" {
		return "ogg"
	}
	return "ogg/" + d.kind
}

func (d *oggDecoder) format() (int, int) { return d.rate, d.ch }

func (d *oggDecoder) title() (string, string, bool) {
	ok := d.newTitle
	d.newTitle = false
	return d.artist, d.song, ok
}

func (d *oggDecoder) decode() ([]float32, error) {
	for {
		p, first, err := d.ogg.next()
		if err != nil {
			return nil, err
		}
		if first {
			if err := d.begin(p); err != nil {
				return nil, err
			}
			continue
		}
		if d.kind == "" {
			return nil, fmt.Errorf("live: ogg: audio before a stream header: %w", ErrGarbage)
		}
		pcm, err := d.packet(p)
		if err != nil {
			return nil, err
		}
		if len(pcm) > 0 {
			return pcm, nil
		}
	}
}

// begin starts a logical stream from its first packet: the codec and
// format must be those of the first stream.
func (d *oggDecoder) begin(p []byte) error {
	var kind string
	var rate, ch int
	switch {
	case len(p) >= 19 && string(p[:8]) == "OpusHead":
		kind, rate, ch = "opus", opusRate, int(p[9])
		if p[18] != 0 {
			return fmt.Errorf("live: ogg/opus: channel mapping family %d: %w", p[18], ErrUnsupported)
		}
	case len(p) >= 30 && vorbis.IsHeader(p) && p[0] == 1:
		kind, rate, ch = "vorbis", int(binary.LittleEndian.Uint32(p[12:])), int(p[11])
	default:
		return fmt.Errorf("live: ogg: a stream that is neither Opus nor Vorbis: %w", ErrUnsupported)
	}
	if ch < 1 || ch > 2 {
		return fmt.Errorf("live: %s with %d channels (send mono or stereo): %w", kind, ch, ErrUnsupported)
	}
	if d.kind != "" && (kind != d.kind || rate != d.rate || ch != d.ch) {
		return fmt.Errorf("live: ogg/%s %d Hz %d ch after %s %d Hz %d ch: %w", kind, rate, ch, d.kind, d.rate, d.ch, ErrFormatChange)
	}
	d.kind, d.rate, d.ch = kind, rate, ch
	d.heads = 0
	switch kind {
	case "opus":
		if d.opus == nil {
			dec, err := gopus.NewDecoder(gopus.DecoderConfig{SampleRate: opusRate, Channels: ch})
			if err != nil {
				return fmt.Errorf("live: ogg/opus: %w", err)
			}
			d.opus = dec
			d.pcm = make([]float32, 5760*ch) // 120 ms, the longest packet
		} else {
			d.opus.Reset()
		}
		d.heads = 1
	case "vorbis":
		d.vorb = &vorbis.Decoder{}
		if err := safely(func() error { return d.vorb.ReadHeader(p) }); err != nil {
			return fmt.Errorf("live: ogg/vorbis: %w: %w", ErrDecode, err)
		}
		d.heads = 1
	}
	return nil
}

// packet decodes one packet after the first of its stream.
func (d *oggDecoder) packet(p []byte) ([]float32, error) {
	switch d.kind {
	case "opus":
		if d.heads == 1 {
			d.heads++
			if len(p) >= 8 && string(p[:8]) == "OpusTags" {
				d.comments(p[8:])
				return nil, nil
			}
			return nil, fmt.Errorf("live: ogg/opus: no OpusTags after OpusHead: %w", ErrGarbage)
		}
		if len(p) == 0 {
			return nil, nil // an empty packet is a gap the clock fills
		}
		n, err := d.opus.Decode(p, d.pcm)
		if err != nil {
			return nil, fmt.Errorf("live: ogg/opus: %w: %w", ErrDecode, err)
		}
		return d.pcm[:n*d.ch], nil
	default:
		if d.heads < 3 {
			if !vorbis.IsHeader(p) || int(p[0]) != 2*d.heads-1+2 {
				return nil, fmt.Errorf("live: ogg/vorbis: header %d missing: %w", d.heads+1, ErrGarbage)
			}
			if p[0] == 3 {
				d.comments(p[7:])
			}
			if err := safely(func() error { return d.vorb.ReadHeader(p) }); err != nil {
				return nil, fmt.Errorf("live: ogg/vorbis: %w: %w", ErrDecode, err)
			}
			d.heads++
			if d.heads == 3 && d.pcm == nil {
				d.pcm = make([]float32, d.vorb.BufferSize())
			}
			return nil, nil
		}
		if len(d.pcm) < d.vorb.BufferSize() {
			d.pcm = make([]float32, d.vorb.BufferSize())
		}
		var out []float32
		err := safely(func() (err error) {
			out, err = d.vorb.DecodeInto(p, d.pcm)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("live: ogg/vorbis: %w: %w", ErrDecode, err)
		}
		return out, nil
	}
}

// comments reads the TITLE and ARTIST of a Vorbis comment block (OpusTags
// and the Vorbis comment header share it).
func (d *oggDecoder) comments(b []byte) {
	read := func() (string, bool) {
		if len(b) < 4 {
			return "", false
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return "", false
		}
		s := string(b[4 : 4+n])
		b = b[4+n:]
		return s, true
	}
	if _, ok := read(); !ok { // vendor
		return
	}
	if len(b) < 4 {
		return
	}
	count := binary.LittleEndian.Uint32(b)
	b = b[4:]
	var artist, title string
	for range min(count, 1000) {
		c, ok := read()
		if !ok {
			break
		}
		k, v, _ := strings.Cut(c, "=")
		switch strings.ToUpper(k) {
		case "TITLE":
			title = v
		case "ARTIST":
			artist = v
		}
	}
	if title != "" || artist != "" {
		d.artist, d.song, d.newTitle = artist, title, true
	}
}

// safely runs a call into the Vorbis decoder, which indexes its input
// without checks and may panic on a malformed packet: a bad source must
// not take the server down.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return f()
}
