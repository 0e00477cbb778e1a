package decode

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
)

// WAV format tags (the fmt chunk's wFormatTag) named in errors.
const (
	wavPCM        = 0x0001
	wavExtensible = 0xFFFE
)

var wavTagNames = map[uint16]string{
	0x0002: "Microsoft ADPCM",
	0x0003: "IEEE float",
	0x0006: "A-law",
	0x0007: "µ-law",
	0x0011: "IMA ADPCM",
	0x0031: "GSM 6.10",
	0x0055: "MPEG Layer III",
	0x0050: "MPEG",
	0x2000: "AC-3",
}

// pcmGUIDTail is KSDATAFORMAT_SUBTYPE_PCM after its first two bytes, which
// hold the format tag.
var pcmGUIDTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// Parsing bounds: a real file has a handful of chunks, and the fmt chunk
// is 16 to 40 bytes.
const (
	wavMaxChunks = 64
	wavMaxFmt    = 1024
	wavBufSize   = 32 << 10
)

// wavStream reads 16- or 24-bit PCM from a RIFF/WAVE file.
type wavStream struct {
	f        *os.File
	br       *bufio.Reader
	rate, ch int
	width    int   // bytes per sample: 2 or 3
	dataOff  int64 // file offset of the first frame
	frames   int64 // whole frames in the data chunk
	pos      int64 // next frame
	raw      []byte
}

// WAVInfo is the layout of a WAV file, as ParseWAV finds it.
type WAVInfo struct {
	SampleRate, Channels, Bits int
	// DataOffset and DataBytes locate the samples.
	DataOffset, DataBytes int64
	// Chunks lists the other chunks (LIST, id3 ...) as [offset, size]
	// pairs of their bodies, keyed by ID, for tag readers.
	Chunks map[string][2]int64
}

func openWAV(path string) (*wavStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	info, err := ParseWAV(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("decode: open %s: %w", path, err)
	}
	w := &wavStream{
		f: f, br: bufio.NewReaderSize(f, wavBufSize),
		rate: info.SampleRate, ch: info.Channels, width: info.Bits / 8,
		dataOff: info.DataOffset,
	}
	w.frames = info.DataBytes / int64(w.ch*w.width)
	if err := w.SeekFrame(0); err != nil {
		_ = f.Close()
		return nil, err
	}
	return w, nil
}

// ParseWAV reads the chunk headers of a RIFF/WAVE file and checks that it
// holds 16- or 24-bit PCM, mono or stereo. A data chunk longer than the
// file is ErrCorrupt (a cut upload); a size of 0 or 0xFFFFFFFF (written
// by a streaming encoder) means "to the end of the file".
func ParseWAV(r io.ReadSeeker) (WAVInfo, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return WAVInfo{}, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return WAVInfo{}, err
	}
	var hdr [12]byte
	if err := readFull(r, hdr[:]); err != nil {
		return WAVInfo{}, fmt.Errorf("wav: %w", err)
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WAVE" {
		return WAVInfo{}, fmt.Errorf("wav: no RIFF/WAVE header: %w", ErrUnknownFormat)
	}
	info := WAVInfo{Chunks: map[string][2]int64{}}
	var fmtc []byte
	off := int64(12)
	haveData := false
	for range wavMaxChunks {
		if off+8 > size || (fmtc != nil && haveData) {
			break
		}
		var ch [8]byte
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return WAVInfo{}, err
		}
		if err := readFull(r, ch[:]); err != nil {
			return WAVInfo{}, fmt.Errorf("wav: chunk at %d: %w", off, err)
		}
		id, n := string(ch[:4]), int64(le.Uint32(ch[4:]))
		body := off + 8
		switch id {
		case "fmt ":
			if n < 16 || n > wavMaxFmt || body+n > size {
				return WAVInfo{}, fmt.Errorf("wav: fmt chunk of %d bytes: %w", n, ErrCorrupt)
			}
			fmtc = make([]byte, n)
			if err := readFull(r, fmtc); err != nil {
				return WAVInfo{}, fmt.Errorf("wav: fmt chunk: %w", err)
			}
		case "data":
			switch {
			case n == 0xFFFFFFFF || n == 0:
				n = size - body
			case body+n > size:
				return WAVInfo{}, fmt.Errorf("wav: the data chunk declares %d bytes, the file holds %d: %w",
					n, size-body, ErrCorrupt)
			}
			info.DataOffset, info.DataBytes, haveData = body, n, true
		default:
			if _, dup := info.Chunks[id]; !dup {
				info.Chunks[id] = [2]int64{body, min(n, size-body)}
			}
		}
		off = body + n + n&1 // chunks are padded to even sizes
	}
	if fmtc == nil {
		return WAVInfo{}, fmt.Errorf("wav: no fmt chunk: %w", ErrCorrupt)
	}
	if err := info.parseFmt(fmtc); err != nil {
		return WAVInfo{}, err
	}
	if !haveData || info.DataBytes < int64(info.Channels*info.Bits/8) {
		return WAVInfo{}, fmt.Errorf("wav: no samples: %w", ErrNoAudio)
	}
	return info, nil
}

func (info *WAVInfo) parseFmt(b []byte) error {
	tag := le.Uint16(b[0:])
	ch := int(le.Uint16(b[2:]))
	rate := int(le.Uint32(b[4:]))
	align := int(le.Uint16(b[12:]))
	bits := int(le.Uint16(b[14:]))
	if tag == wavExtensible {
		if len(b) < 40 || le.Uint16(b[16:]) < 22 {
			return fmt.Errorf("wav: short WAVE_FORMAT_EXTENSIBLE header: %w", ErrCorrupt)
		}
		valid := int(le.Uint16(b[18:]))
		sub := b[24:40]
		if !bytes.Equal(sub[2:], pcmGUIDTail) {
			return unsupported("WAV with an unknown WAVE_FORMAT_EXTENSIBLE subformat")
		}
		tag = le.Uint16(sub)
		if tag == wavPCM && valid != 0 && valid != bits {
			return unsupported(fmt.Sprintf("WAV with %d-bit samples in %d-bit containers", valid, bits))
		}
	}
	switch {
	case tag == 0x0003:
		return unsupported(fmt.Sprintf("WAV with %d-bit float samples", bits))
	case tag != wavPCM:
		name := wavTagNames[tag]
		if name == "" {
			name = fmt.Sprintf("format tag 0x%04X", tag)
		}
		return unsupported("WAV with " + name + " audio")
	case bits != 16 && bits != 24:
		return unsupported(fmt.Sprintf("WAV with %d-bit PCM", bits))
	case ch < 1:
		return fmt.Errorf("wav: %d channels: %w", ch, ErrCorrupt)
	case ch > 2:
		return unsupported(fmt.Sprintf("WAV with %d channels", ch))
	case rate < 1000 || rate > 768000:
		return unsupported(fmt.Sprintf("WAV at %d Hz", rate))
	case align != ch*bits/8:
		return fmt.Errorf("wav: block align %d for %d channels of %d bits: %w", align, ch, bits, ErrCorrupt)
	}
	info.SampleRate, info.Channels, info.Bits = rate, ch, bits
	return nil
}

func (w *wavStream) SampleRate() int { return w.rate }
func (w *wavStream) Channels() int   { return w.ch }
func (w *wavStream) Length() int64   { return w.frames }
func (w *wavStream) Close() error    { return w.f.Close() }

func (w *wavStream) Read(dst []float32) (int, error) {
	frames := min(int64(len(dst)/w.ch), w.frames-w.pos)
	if frames <= 0 {
		if len(dst) < w.ch {
			return 0, nil
		}
		return 0, io.EOF
	}
	nb := int(frames) * w.ch * w.width
	if cap(w.raw) < nb {
		w.raw = make([]byte, nb)
	}
	raw := w.raw[:nb]
	if _, err := io.ReadFull(w.br, raw); err != nil {
		// ParseWAV checked the size: the file changed under us.
		return 0, fmt.Errorf("decode: wav: %w: %w", ErrCorrupt, err)
	}
	n := len(raw) / w.width
	if w.width == 2 {
		for i := range n {
			dst[i] = float32(int16(le.Uint16(raw[2*i:]))) / (1 << 15)
		}
	} else {
		for i := range n {
			b := raw[3*i:]
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			dst[i] = float32(v) / (1 << 23)
		}
	}
	w.pos += frames
	if w.pos == w.frames {
		return n, io.EOF
	}
	return n, nil
}

func (w *wavStream) SeekFrame(frame int64) error {
	if frame < 0 {
		return fmt.Errorf("decode: wav: seek to %d: %w", frame, ErrSeek)
	}
	frame = min(frame, w.frames)
	if _, err := w.f.Seek(w.dataOff+frame*int64(w.ch*w.width), io.SeekStart); err != nil {
		return fmt.Errorf("decode: wav: %w", err)
	}
	w.br.Reset(w.f)
	w.pos = frame
	return nil
}
