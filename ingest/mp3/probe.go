package mp3

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Info describes a whole MP3 file, as measured by Probe.
type Info struct {
	Version    Version
	Layer      int
	SampleRate int // Hz
	Channels   int // the most any frame has
	// Frames counts the audio frames; the Xing/Info frame is not one.
	Frames int64
	// Samples is the number of samples per channel the audio frames decode
	// to, and Duration how long they play.
	Samples  int64
	Duration time.Duration
	// Bitrate is the average over the audio frames, bit/s.
	Bitrate int
	// VBR is true when the frames do not all have the same bitrate.
	VBR bool
	// AudioBytes is the size of the audio frames, without tags or junk.
	AudioBytes int64
	// InfoFrame is true when a Xing/Info/VBRI frame was skipped, and
	// XingFrames is the frame count it declared (0 when none).
	InfoFrame  bool
	XingFrames int
	// Skipped counts junk bytes, Truncated says the last frame was cut.
	Skipped   int64
	Truncated bool
}

// Probe scans the whole stream r and checks that it is one a station can
// play: MPEG-1, MPEG-2 or MPEG-2.5 layer III with one version and sample
// rate throughout. Its errors wrap ErrNoFrames, ErrNoAudio, ErrLayer,
// ErrFreeFormat, ErrMixedFormat, or a read error.
func Probe(r io.Reader) (Info, error) {
	var s Scanner
	s.Reset(r)
	return probe(&s)
}

func probe(s *Scanner) (Info, error) {
	var (
		info             Info
		first            Header
		samples          int64
		minRate, maxRate int
	)
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Info{}, fmt.Errorf("mp3: probe: %w", err)
		}
		h := f.Header
		if h.Layer != 3 {
			return Info{}, fmt.Errorf("mp3: frame at offset %d is layer %d: %w", f.Offset, h.Layer, ErrLayer)
		}
		if info.Frames == 0 {
			first = h
			minRate, maxRate = h.Bitrate, h.Bitrate
		} else if !h.SameFormat(first) {
			return Info{}, fmt.Errorf("mp3: frame at offset %d is %s %d Hz after %s %d Hz: %w",
				f.Offset, h.Version, h.SampleRate, first.Version, first.SampleRate, ErrMixedFormat)
		}
		info.Frames++
		info.AudioBytes += int64(h.FrameSize)
		samples += int64(h.Samples)
		info.Channels = max(info.Channels, h.Channels)
		minRate, maxRate = min(minRate, h.Bitrate), max(maxRate, h.Bitrate)
	}
	info.InfoFrame = s.InfoFrame()
	info.XingFrames, _ = s.XingFrames()
	info.Skipped, info.Truncated = s.Skipped(), s.Truncated()
	if info.Frames == 0 {
		switch {
		case s.freeFormat:
			return Info{}, fmt.Errorf("mp3: probe: %w", ErrFreeFormat)
		case s.tagged || s.headerStart || s.info:
			return Info{}, fmt.Errorf("mp3: probe: %w", ErrNoAudio)
		}
		return Info{}, fmt.Errorf("mp3: probe: %w", ErrNoFrames)
	}
	info.Version, info.Layer, info.SampleRate = first.Version, first.Layer, first.SampleRate
	rate := int64(first.SampleRate)
	info.Samples = samples
	info.Duration = time.Duration(samples * int64(time.Second) / rate)
	info.VBR = minRate != maxRate
	info.Bitrate = first.Bitrate
	if info.VBR {
		// bytes*8 / (samples/rate), rounded; samples > 0 here. CBR files
		// report their nominal rate: padding makes the average a hair
		// off (127999 for 128k), which players would show.
		info.Bitrate = int((info.AudioBytes*8*rate + samples/2) / samples)
	}
	return info, nil
}
