package decode

import (
	"errors"
	"fmt"
	"io"
	"os"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/onairfm/onair/ingest/mp3"
)

// Seek priming: go-mp3 decodes a frame from the bit reservoir (up to 511
// bytes of earlier frames) and from the previous granule's overlap, so
// playing from frame k starts a few frames earlier and discards their
// output. primeBytes covers the reservoir of frame k and of frame k-1
// (whose overlap frame k needs), with room to spare; primeMax bounds the
// work at tiny bitrates.
const (
	primeBytes  = 2048
	primeFrames = 3
	primeMax    = 48
)

// maxFrameBytes holds the largest Layer III frame (1441 bytes: MPEG-1
// 320 kbit/s at 32 kHz, padded) and then some.
const maxFrameBytes = 4096

// mp3Stream decodes an MP3 file. go-mp3 always writes 16-bit stereo, so
// the stream is stereo whatever the file is.
type mp3Stream struct {
	f    *os.File
	scan mp3.Scanner
	feed mp3Feed
	dec  *gomp3.Decoder
	rate int
	raw  []byte // go-mp3's output, reused

	skip     int64 // frames still to discard after a seek
	produced int64 // frames out of dec since it started
	err      error // sticky: io.EOF or the failure
}

func openMP3(path string) (*mp3Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	m := &mp3Stream{f: f}
	m.scan.Reset(f)
	m.feed.s = &m.scan
	if err := m.start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("decode: open %s: %w", path, err)
	}
	m.rate = m.feed.first.SampleRate
	return m, nil
}

// start makes a decoder reading the feed from where the scanner is.
// go-mp3 decodes the first frame at once.
func (m *mp3Stream) start() error {
	m.produced, m.err = 0, nil
	dec, err := gomp3.NewDecoder(&m.feed)
	if m.feed.err != nil && !errors.Is(m.feed.err, io.EOF) {
		return m.feed.err
	}
	if err != nil {
		if m.feed.frames == 0 {
			return ErrNoAudio
		}
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	m.dec = dec
	return nil
}

func (m *mp3Stream) SampleRate() int { return m.rate }
func (m *mp3Stream) Channels() int   { return 2 }
func (m *mp3Stream) Length() int64   { return -1 }
func (m *mp3Stream) Close() error    { return m.f.Close() }

func (m *mp3Stream) Read(dst []float32) (int, error) {
	dst = dst[:len(dst)&^1]
	n := 0
	for n < len(dst) && m.err == nil {
		want := (len(dst) - n) * 2
		if m.skip > 0 {
			want = int(min(int64(want), m.skip*4))
		}
		if cap(m.raw) < want {
			m.raw = make([]byte, want)
		}
		raw := m.raw[:want]
		k, err := m.dec.Read(raw)
		k &^= 3 // go-mp3 hands out whole frames of 4 bytes
		m.produced += int64(k / 4)
		raw = raw[:k]
		if m.skip > 0 {
			m.skip -= int64(k / 4)
		} else {
			for i := 0; i+1 < len(raw); i += 2 {
				dst[n] = float32(int16(le.Uint16(raw[i:]))) / 32768
				n++
			}
		}
		if err != nil {
			m.err = m.end(err)
		}
	}
	if n == 0 && m.err != nil {
		return 0, m.err
	}
	if m.err != nil && !errors.Is(m.err, io.EOF) {
		return n, m.err
	}
	if errors.Is(m.err, io.EOF) {
		return n, io.EOF
	}
	return n, nil
}

// end turns the decoder's error into the stream's: go-mp3 reports a frame
// it could not finish as a quiet io.EOF, so the samples it gave are
// counted against the frames it was fed.
func (m *mp3Stream) end(err error) error {
	if m.feed.err != nil && !errors.Is(m.feed.err, io.EOF) {
		return m.feed.err
	}
	if !errors.Is(err, io.EOF) {
		return fmt.Errorf("decode: mp3: %w: %w", ErrCorrupt, err)
	}
	if m.produced < m.feed.samples {
		return fmt.Errorf("decode: mp3: %w: the decoder stopped after %d of %d samples",
			ErrCorrupt, m.produced, m.feed.samples)
	}
	return io.EOF
}

// SeekFrame scans frame headers from the start (no decoding) to the frame that
// holds the target, then starts a decoder a few frames earlier so the bit
// reservoir and the overlap are filled, and discards up to the target. The
// first of those frames is fed with its side information zeroed: it
// decodes as silence instead of reading a reservoir the decoder never saw,
// and its bytes are the reservoir of the frames after it.
func (m *mp3Stream) SeekFrame(frame int64) error {
	if frame < 0 {
		return fmt.Errorf("decode: mp3: seek to %d: %w", frame, ErrSeek)
	}
	if _, err := m.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("decode: mp3: %w", err)
	}
	type mark struct {
		off   int64
		size  int
		start int64
	}
	var ring [primeMax + 1]mark
	m.scan.Reset(m.f)
	var pos int64
	i := -1
	for {
		f, err := m.scan.Next()
		if errors.Is(err, io.EOF) {
			// Past the end: the stream ends here.
			m.err, m.skip = io.EOF, 0
			return nil
		}
		if err != nil {
			return fmt.Errorf("decode: mp3: seek: %w", err)
		}
		i++
		ring[i%len(ring)] = mark{f.Offset, len(f.Data), pos}
		if frame < pos+int64(f.Samples) {
			break
		}
		pos += int64(f.Samples)
	}
	j, bytes := i, 0
	for j > 0 && i-j < primeMax && (i-j < primeFrames || bytes < primeBytes) {
		j--
		bytes += ring[j%len(ring)].size
	}
	from := ring[j%len(ring)]
	if _, err := m.f.Seek(from.off, io.SeekStart); err != nil {
		return fmt.Errorf("decode: mp3: %w", err)
	}
	m.scan.Reset(m.f)
	m.feed.restart(j > 0)
	if err := m.start(); err != nil {
		m.err = fmt.Errorf("decode: mp3: seek: %w", err)
		return m.err
	}
	m.skip = frame - from.start
	return nil
}

// mp3Feed is the io.Reader go-mp3 pulls from: the scanner's audio frames,
// checked to keep one format.
type mp3Feed struct {
	s        *mp3.Scanner
	rest     []byte
	first    mp3.Header
	frames   int64 // frames handed over since the last restart
	samples  int64 // their samples per channel
	silence  bool  // zero the side information of the next frame
	own      [maxFrameBytes]byte
	err      error
	hasFirst bool
}

func (f *mp3Feed) restart(silence bool) {
	f.rest, f.frames, f.samples, f.err, f.silence = nil, 0, 0, nil, silence
}

func (f *mp3Feed) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(f.rest) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		fr, err := f.s.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("decode: mp3: %w", err)
			}
			f.err = err
			return 0, err
		}
		if err := f.check(fr); err != nil {
			f.err = err
			return 0, err
		}
		f.rest = fr.Data
		if f.silence && len(fr.Data) <= len(f.own) {
			f.silence = false
			f.rest = f.own[:copy(f.own[:], fr.Data)]
			off := 4
			if fr.Protected {
				off += 2
			}
			clear(f.rest[off:min(len(f.rest), off+sideInfoSize(fr.Header))])
		}
		f.frames++
		f.samples += int64(fr.Samples)
	}
	n := copy(p, f.rest)
	f.rest = f.rest[n:]
	return n, nil
}

// check refuses what go-mp3 cannot decode, and a format change: the
// Stream has one rate.
func (f *mp3Feed) check(fr mp3.Frame) error {
	h := fr.Header
	switch {
	case h.Version == mp3.MPEG25:
		return unsupported("MPEG-2.5 audio (MP3 at 8, 11.025 or 12 kHz)")
	case h.Layer != 3:
		return unsupported(fmt.Sprintf("MPEG layer %d audio", h.Layer))
	}
	if !f.hasFirst {
		f.first, f.hasFirst = h, true
		return nil
	}
	if h.Version != f.first.Version || h.SampleRate != f.first.SampleRate {
		return fmt.Errorf("decode: mp3: frame at offset %d is %s %d Hz after %s %d Hz: %w",
			fr.Offset, h.Version, h.SampleRate, f.first.Version, f.first.SampleRate, ErrFormatChange)
	}
	return nil
}

// sideInfoSize is the Layer III side information length after the header
// (ISO 11172-3 and 13818-3).
func sideInfoSize(h mp3.Header) int {
	switch {
	case h.Version == mp3.MPEG1 && h.Channels == 1:
		return 17
	case h.Version == mp3.MPEG1:
		return 32
	case h.Channels == 1:
		return 9
	}
	return 17
}
