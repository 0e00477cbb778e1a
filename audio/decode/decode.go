// Package decode opens a track file (MP3, WAV or FLAC) as float32 PCM for
// playout and ingest, at the file's own rate: resampling and mixing are
// the engine's.
//
// MP3 is decoded by audio/mp3dec, fed only the audio frames that the
// project's frame scanner (ingest/mp3) finds, so tags, junk and the Xing
// frame never reach it. It plays MPEG-1, MPEG-2 and MPEG-2.5 Layer III
// (8 to 48 kHz); layers I and II are refused as unsupported. WAV is parsed
// here (RIFF is small and bounds matter more than features): 16- and
// 24-bit PCM, mono or stereo. FLAC is decoded by mewkiz/flac.
//
// MP3 streams are always stereo (a mono file comes out on both channels);
// WAV and FLAC streams have the file's channels.
//
// Costs, measured on this project's 2-core machine under load: MP3 decodes
// at about 340x real time (128 kbit/s 44.1 kHz stereo), FLAC at ~250x, WAV
// at thousands. Read allocates nothing of its own, nor does mp3dec;
// mewkiz/flac allocates a few times per block. SeekFrame scans MP3 frame
// headers from the start of the file (no decoding) and decodes a few
// frames before the target; FLAC uses the SEEKTABLE (a file without one is
// parsed once on its first seek); WAV computes the offset.
//
// Third-party decoders see untrusted bytes: a panic in one becomes an
// ErrCorrupt error of the Stream, never a crash.
package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/ingest/mp3"
)

// Stream is one opened track's audio as float32 interleaved PCM at its own
// rate.
//
// The streams Open returns also have Length() int64: the number of frames
// the file declares, or -1 when it does not say (MP3: use mp3.Probe).
type Stream interface {
	SampleRate() int
	Channels() int // 1 or 2
	// Read fills dst with interleaved samples (a whole number of frames)
	// and returns how many samples (not frames) it wrote; io.EOF at the
	// end (possibly with n > 0 before it, or n == 0 after). It fills dst
	// completely unless the audio ends or fails first.
	Read(dst []float32) (int, error)
	// SeekFrame moves to frame (samples per channel from the start of the
	// audio). It never decodes the file up to that point.
	SeekFrame(frame int64) error
	Close() error
}

// Open opens the file at path, of format onair.FormatMP3, FormatWAV or
// FormatFLAC (see Detect), and reads enough of it to know its rate and
// channels. Its errors wrap ErrUnknownFormat, ErrUnsupported, ErrNoAudio,
// ErrCorrupt or ErrFormatChange, or are I/O errors.
func Open(path, format string) (s Stream, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("decode: open %s: %w: decoder panic: %v", path, ErrCorrupt, p)
		}
	}()
	switch format {
	case onair.FormatMP3:
		s, err = openMP3(path)
	case onair.FormatWAV:
		s, err = openWAV(path)
	case onair.FormatFLAC:
		s, err = openFLAC(path)
	default:
		return nil, fmt.Errorf("decode: open %s: format %q: %w", path, format, ErrUnknownFormat)
	}
	if err != nil {
		return nil, err
	}
	return &guarded{s: s.(stream)}, nil
}

// stream is what each format implements.
type stream interface {
	Stream
	Length() int64
}

// guarded turns a panic of a decoder into an error, and makes the stream
// fail from then on: its state after a panic is unknown.
type guarded struct {
	s   stream
	err error
}

func (g *guarded) SampleRate() int { return g.s.SampleRate() }
func (g *guarded) Channels() int   { return g.s.Channels() }
func (g *guarded) Length() int64   { return g.s.Length() }
func (g *guarded) Close() error    { return g.s.Close() }

func (g *guarded) Read(dst []float32) (n int, err error) {
	if g.err != nil {
		return 0, g.err
	}
	defer g.recover(&n, &err)
	return g.s.Read(dst)
}

func (g *guarded) SeekFrame(frame int64) (err error) {
	if g.err != nil {
		return g.err
	}
	var n int
	defer g.recover(&n, &err)
	return g.s.SeekFrame(frame)
}

func (g *guarded) recover(n *int, err *error) {
	if p := recover(); p != nil {
		g.err = fmt.Errorf("decode: %w: decoder panic: %v", ErrCorrupt, p)
		*n, *err = 0, g.err
	}
}

// Detect tells the format of a file from its first bytes (a few KiB are
// plenty; 64 KiB finds MP3 frames after junk), by content, never by name:
// "fLaC", RIFF/WAVE, or MPEG audio frames (any layer: mp3.Probe refuses
// the ones that are not MP3 with a clear reason), also after an ID3v2 tag.
func Detect(head []byte) (format string, ok bool) {
	for range 4 { // ID3v2 tags, possibly more than one
		switch {
		case bytes.HasPrefix(head, []byte("fLaC")):
			return onair.FormatFLAC, true
		case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
			return onair.FormatWAV, true
		}
		n, ok := id3v2Len(head)
		if !ok {
			break
		}
		if n+4 > int64(len(head)) {
			// The tag runs past what we were given: an ID3v2 tag is
			// MP3's in all but rare files, and Probe checks.
			return onair.FormatMP3, true
		}
		head = head[n:]
	}
	s := mp3.NewScanner(bytes.NewReader(head))
	if _, err := s.Next(); err == nil {
		return onair.FormatMP3, true
	}
	return "", false
}

// id3v2Len returns the length of the ID3v2 tag at the start of b, header
// and footer included.
func id3v2Len(b []byte) (int64, bool) {
	if len(b) < 10 || string(b[:3]) != "ID3" || b[3] == 0xFF || b[4] == 0xFF ||
		(b[6]|b[7]|b[8]|b[9])&0x80 != 0 {
		return 0, false
	}
	n := int64(b[6])<<21 | int64(b[7])<<14 | int64(b[8])<<7 | int64(b[9])
	n += 10
	if b[5]&0x10 != 0 {
		n += 10
	}
	return n, true
}

// readFull is io.ReadFull that calls a short file a corrupt one.
func readFull(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: the file ends early", ErrCorrupt)
		}
		return err
	}
	return nil
}

var le = binary.LittleEndian
