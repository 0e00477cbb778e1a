package decode

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/onairfm/onair/audio/mp3dec"
	"github.com/onairfm/onair/ingest/mp3"
)

// Seek priming: a Layer III frame is decoded from the bit reservoir (up to
// 511 bytes of earlier frames) and from the previous granule's overlap, so
// playing from frame k starts a few frames earlier and discards their
// output. primeBytes covers the reservoir of frame k and of frame k-1
// (whose overlap frame k needs), with room to spare; primeMax bounds the
// work at tiny bitrates.
const (
	primeBytes  = 2048
	primeFrames = 3
	primeMax    = 48
)

// mp3Stream decodes an MP3 file frame by frame with mp3dec: the scanner
// finds the frames (and skips tags and the encoder's info frame), the
// decoder turns each into stereo float samples. Stereo whatever the file
// is: a mono frame comes out on both channels.
type mp3Stream struct {
	f    *os.File
	scan mp3.Scanner
	dec  *mp3dec.Decoder
	rate int

	first    mp3.Header // the format every frame must keep
	hasFirst bool
	pcm      [2 * 1152]float32 // the last frame decoded
	rest     []float32         // what of it is still to be read

	skip int64 // frames still to discard after a seek
	err  error // sticky: io.EOF or the failure
}

func openMP3(path string) (*mp3Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	m := &mp3Stream{f: f, dec: mp3dec.New()}
	m.scan.Reset(f)
	// The first frame now: a file with no audio, or one this decoder
	// refuses, fails at Open rather than at its first Read.
	if err := m.decodeNext(); err != nil {
		_ = f.Close()
		if errors.Is(err, io.EOF) {
			return nil, ErrNoAudio
		}
		return nil, fmt.Errorf("decode: open %s: %w", path, err)
	}
	m.rate = m.first.SampleRate
	return m, nil
}

func (m *mp3Stream) SampleRate() int { return m.rate }
func (m *mp3Stream) Channels() int   { return 2 }
func (m *mp3Stream) Length() int64   { return -1 }
func (m *mp3Stream) Close() error    { return m.f.Close() }

func (m *mp3Stream) Read(dst []float32) (int, error) {
	dst = dst[:len(dst)&^1]
	n := 0
	for n < len(dst) {
		if len(m.rest) == 0 {
			if m.err != nil {
				break
			}
			if err := m.decodeNext(); err != nil {
				m.err = err
				continue // what the frame did give is in rest
			}
		}
		k := copy(dst[n:], m.rest)
		m.rest = m.rest[k:]
		n += k
	}
	if n == 0 && m.err != nil {
		return 0, m.err
	}
	if len(m.rest) == 0 && m.err != nil {
		return n, m.err
	}
	return n, nil
}

// decodeNext decodes the next frame into rest, after the frames a seek
// still has to discard. A frame whose main data is damaged still gives
// its samples (the damaged part silent), with ErrCorrupt: ingest refuses
// such a file, so a played one has none.
func (m *mp3Stream) decodeNext() error {
	for {
		fr, err := m.scan.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("decode: mp3: %w", err)
		}
		if err := m.check(fr); err != nil {
			return err
		}
		n, err := m.dec.DecodeFrame(fr.Data, m.pcm[:])
		if err != nil && !errors.Is(err, mp3dec.ErrCorrupt) {
			return fmt.Errorf("decode: mp3: frame at offset %d: %w: %w", fr.Offset, ErrCorrupt, err)
		}
		out := m.pcm[:n]
		if m.skip > 0 {
			d := min(m.skip, int64(n/2))
			m.skip -= d
			out = out[2*d:]
		}
		m.rest = out
		if err != nil {
			return fmt.Errorf("decode: mp3: frame at offset %d: %w: %w", fr.Offset, ErrCorrupt, err)
		}
		if len(out) > 0 {
			return nil
		}
	}
}

// check refuses a format change (the Stream has one rate) and what the
// scanner lets through but onair does not play.
func (m *mp3Stream) check(fr mp3.Frame) error {
	h := fr.Header
	if h.Layer != 3 {
		return unsupported(fmt.Sprintf("MPEG layer %d audio", h.Layer))
	}
	if !m.hasFirst {
		m.first, m.hasFirst = h, true
		return nil
	}
	if !h.SameFormat(m.first) {
		return fmt.Errorf("decode: mp3: frame at offset %d is %s %d Hz after %s %d Hz: %w",
			fr.Offset, h.Version, h.SampleRate, m.first.Version, m.first.SampleRate, ErrFormatChange)
	}
	return nil
}

// SeekFrame scans frame headers from the start (no decoding) to the frame
// that holds the target, then restarts the decoder a few frames earlier so
// that the bit reservoir and the overlap are filled, and discards up to
// the target.
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
			m.err, m.skip, m.rest = io.EOF, 0, nil
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
	// The first frames after the reset find no reservoir and decode as
	// silence, and the overlap starts empty: they are among those skipped.
	m.dec.Reset()
	m.rest, m.err = nil, nil
	m.skip = frame - from.start
	return nil
}
