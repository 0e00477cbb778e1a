package decode

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
)

// flacStream decodes a FLAC file with mewkiz/flac. Seeking uses the file's
// SEEKTABLE (ffmpeg and the flac tool write one); a file without one gets
// a table made by mewkiz/flac on the first Seek, which parses the file
// once.
type flacStream struct {
	f        *os.File
	s        *flac.Stream
	rate, ch int
	bps      uint8
	scale    float32
	total    int64 // frames the STREAMINFO declares, 0 when unknown

	fr  *frame.Frame // current block
	idx int          // next frame in fr
	pos int64        // frames read
	err error        // sticky
}

func openFLAC(path string) (*flacStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	s, err := flac.NewSeek(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("decode: open %s: flac: %w: %w", path, ErrCorrupt, err)
	}
	in := s.Info
	switch {
	case in == nil:
		err = fmt.Errorf("flac: no STREAMINFO: %w", ErrCorrupt)
	case in.NChannels > 2:
		err = unsupported(fmt.Sprintf("FLAC with %d channels", in.NChannels))
	case in.BitsPerSample > 24 || in.BitsPerSample < 8:
		err = unsupported(fmt.Sprintf("FLAC with %d-bit samples", in.BitsPerSample))
	case in.SampleRate < 1000 || in.SampleRate > 768000:
		err = unsupported(fmt.Sprintf("FLAC at %d Hz", in.SampleRate))
	case in.NChannels < 1:
		err = fmt.Errorf("flac: no channels: %w", ErrCorrupt)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("decode: open %s: %w", path, err)
	}
	return &flacStream{
		f: f, s: s,
		rate: int(in.SampleRate), ch: int(in.NChannels), bps: in.BitsPerSample,
		scale: 1 / float32(int64(1)<<(in.BitsPerSample-1)),
		total: int64(in.NSamples),
	}, nil
}

func (d *flacStream) SampleRate() int { return d.rate }
func (d *flacStream) Channels() int   { return d.ch }
func (d *flacStream) Close() error    { return d.f.Close() }

func (d *flacStream) Length() int64 {
	if d.total == 0 {
		return -1
	}
	return d.total
}

func (d *flacStream) Read(dst []float32) (int, error) {
	dst = dst[:len(dst)-len(dst)%d.ch]
	n := 0
	for n < len(dst) {
		if d.fr == nil || d.idx >= int(d.fr.BlockSize) {
			if d.err != nil {
				break
			}
			if d.err = d.next(); d.err != nil {
				break
			}
		}
		k := min(int(d.fr.BlockSize)-d.idx, (len(dst)-n)/d.ch)
		if d.ch == 1 {
			src := d.fr.Subframes[0].Samples[d.idx : d.idx+k]
			for i, v := range src {
				dst[n+i] = float32(v) * d.scale
			}
		} else {
			l := d.fr.Subframes[0].Samples[d.idx : d.idx+k]
			r := d.fr.Subframes[1].Samples[d.idx : d.idx+k]
			out := dst[n : n+2*k]
			for i := range l {
				out[2*i] = float32(l[i]) * d.scale
				out[2*i+1] = float32(r[i]) * d.scale
			}
		}
		n += k * d.ch
		d.idx += k
		d.pos += int64(k)
	}
	// d.err is set only once the current block is used up.
	if n == 0 && d.err != nil {
		return 0, d.err
	}
	return n, d.err
}

// next parses the next block and checks that it keeps the stream's
// format.
func (d *flacStream) next() error {
	fr, err := d.s.ParseNext()
	if errors.Is(err, io.EOF) {
		if d.total > 0 && d.pos < d.total {
			return fmt.Errorf("decode: flac: %w: the audio ends after %d of %d samples", ErrCorrupt, d.pos, d.total)
		}
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("decode: flac: %w: %w", ErrCorrupt, err)
	}
	switch {
	case fr.Channels.Count() != d.ch,
		fr.SampleRate != 0 && int(fr.SampleRate) != d.rate,
		fr.BitsPerSample != 0 && fr.BitsPerSample != d.bps:
		return fmt.Errorf("decode: flac: block at sample %d is %d Hz, %d channels, %d bits: %w",
			d.pos, fr.SampleRate, fr.Channels.Count(), fr.BitsPerSample, ErrFormatChange)
	}
	for _, sf := range fr.Subframes {
		if len(sf.Samples) < int(fr.BlockSize) {
			return fmt.Errorf("decode: flac: %w: short subframe", ErrCorrupt)
		}
	}
	d.fr, d.idx = fr, 0
	return nil
}

func (d *flacStream) SeekFrame(frame int64) error {
	if frame < 0 {
		return fmt.Errorf("decode: flac: seek to %d: %w", frame, ErrSeek)
	}
	d.fr, d.idx, d.err = nil, 0, nil
	if d.total > 0 && frame >= d.total {
		d.pos, d.err = d.total, io.EOF
		return nil
	}
	start, err := d.s.Seek(uint64(frame))
	if err != nil {
		d.err = fmt.Errorf("decode: flac: seek: %w: %w", ErrCorrupt, err)
		return d.err
	}
	d.pos = int64(start)
	if err := d.next(); err != nil {
		d.err = err
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	skip := int(min(frame-int64(start), int64(d.fr.BlockSize)))
	d.idx, d.pos = skip, int64(start)+int64(skip)
	return nil
}
