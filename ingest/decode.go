package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/analysis"
	"github.com/onairfm/onair/audio/decode"
	"github.com/onairfm/onair/ingest/mp3"
)

// headBytes is how much of a file Detect looks at: MP3 frames are found
// after junk within it.
const headBytes = 64 << 10

// check detects f's format, checks what its headers say, then decodes it
// once to its end, returning a Track with the measured fields filled (and
// for WAV the chunk layout, for the tag reader).
func (in *Ingester) check(ctx context.Context, name string, f *os.File, size int64) (onair.Track, *decode.WAVInfo, error) {
	format, err := detect(f)
	if err != nil {
		return onair.Track{}, nil, fmt.Errorf("ingest: %s: %w", name, err)
	}
	if format == "" {
		return onair.Track{}, nil, fmt.Errorf("ingest: %w: %w",
			onair.Errorf(onair.EUnsupported, "%s: not an audio file (MP3, WAV and FLAC are accepted)", name),
			decode.ErrUnknownFormat)
	}
	t := onair.Track{Format: format}
	var wav *decode.WAVInfo
	expect := int64(-1) // frames the headers promise, -1 when unknown
	switch format {
	case onair.FormatMP3:
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return onair.Track{}, nil, fmt.Errorf("ingest: %s: %w", name, err)
		}
		info, err := mp3.Probe(f)
		if err != nil {
			return onair.Track{}, nil, probeError(name, err)
		}
		t.SampleRate, t.Channels, t.Bitrate, t.Duration = info.SampleRate, info.Channels, info.Bitrate, info.Duration
		expect = info.Samples
	case onair.FormatWAV:
		wi, err := decode.ParseWAV(f)
		if err != nil {
			return onair.Track{}, nil, decodeError(name, err)
		}
		wav = &wi
		expect = wi.DataBytes / int64(wi.Channels*wi.Bits/8)
		t.SampleRate, t.Channels = wi.SampleRate, wi.Channels
	}
	if err := ctx.Err(); err != nil {
		return onair.Track{}, nil, fmt.Errorf("ingest: %s: %w", name, err)
	}

	s, err := decode.Open(f.Name(), format)
	if err != nil {
		return onair.Track{}, nil, decodeError(name, err)
	}
	defer func() { _ = s.Close() }() // read-only: nothing to lose
	if format == onair.FormatFLAC {
		t.SampleRate, t.Channels = s.SampleRate(), s.Channels()
		if l, ok := s.(interface{ Length() int64 }); ok {
			expect = l.Length()
		}
	}
	if expect >= 0 {
		// Refuse what the headers already condemn, before decoding.
		d := frameDuration(expect, t.SampleRate)
		if err := in.checkLength(name, d, size, t.Bitrate, t.SampleRate); err != nil {
			return onair.Track{}, nil, err
		}
	}

	maxFrames := int64(in.maxDuration().Seconds()*float64(s.SampleRate())) + 1
	frames, res, err := measure(ctx, s, maxFrames)
	switch {
	case ctx.Err() != nil:
		return onair.Track{}, nil, fmt.Errorf("ingest: %s: %w", name, ctx.Err())
	case errors.Is(err, errTooLong):
		return onair.Track{}, nil, in.tooLong(name)
	case errors.Is(err, analysis.ErrSilent):
		return onair.Track{}, nil, fmt.Errorf("ingest: %w: %w",
			onair.Errorf(onair.EUnprocessable, "%s: the audio is silent", name), err)
	case err != nil:
		return onair.Track{}, nil, decodeError(name, err)
	case expect >= 0 && frames != expect:
		return onair.Track{}, nil, fmt.Errorf("ingest: %w: %w",
			onair.Errorf(onair.EUnprocessable, "%s: cannot be decoded: only %.2f of %.2f s decode (damaged or cut short)",
				name, frameDuration(frames, s.SampleRate()).Seconds(), frameDuration(expect, s.SampleRate()).Seconds()),
			decode.ErrCorrupt)
	}
	if format != onair.FormatMP3 {
		t.Duration = frameDuration(frames, t.SampleRate)
		t.Bitrate = int(float64(size) * 8 / t.Duration.Seconds())
		if expect < 0 {
			if err := in.checkLength(name, t.Duration, size, t.Bitrate, t.SampleRate); err != nil {
				return onair.Track{}, nil, err
			}
		}
	}
	t.Analysis = &res
	return t, wav, nil
}

// checkLength refuses a track too short to air, too long to decode, or
// whose bitrate is so low for its sample rate that its decoding costs far
// more than its bytes suggest. bitrate 0 means "from size and d".
func (in *Ingester) checkLength(name string, d time.Duration, size int64, bitrate, rate int) error {
	if d < MinDuration {
		return onair.Errorf(onair.EUnprocessable,
			"%s: too short to play (%.2f s of audio, at least %.1f s needed)",
			name, d.Seconds(), MinDuration.Seconds())
	}
	if bitrate == 0 {
		bitrate = int(float64(size) * 8 / d.Seconds())
	}
	if floor := minBitrate(rate); bitrate < floor {
		return onair.Errorf(onair.EUnprocessable,
			"%s: bitrate too low (%d kbit/s; at least %d kbit/s needed at %d Hz)",
			name, bitrate/1000, floor/1000, rate)
	}
	if d > in.maxDuration() {
		return in.tooLong(name)
	}
	return nil
}

func (in *Ingester) maxDuration() time.Duration {
	if in.MaxDuration > 0 {
		return in.MaxDuration
	}
	return DefaultMaxDuration
}

func (in *Ingester) tooLong(name string) error {
	return onair.Errorf(onair.EUnprocessable, "%s: too long (more than %s of audio)", name, in.maxDuration())
}

func frameDuration(frames int64, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(frames) / float64(rate) * float64(time.Second))
}

// detect reads the start of f, past an ID3v2 tag however large, and
// returns its format, or "" when it is no audio file Detect knows.
func detect(f *os.File) (string, error) {
	head := make([]byte, headBytes)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	head = head[:n]
	if format, ok := decode.Detect(head); ok {
		if format != onair.FormatMP3 || n < 10 || string(head[:3]) != "ID3" {
			return format, nil
		}
		// A large tag (cover art) may hide what follows it: FLAC
		// files are sometimes ID3-tagged too.
		size := int64(head[6]&0x7F)<<21 | int64(head[7]&0x7F)<<14 | int64(head[8]&0x7F)<<7 | int64(head[9]&0x7F) + 10
		var after [4]byte
		if _, err := f.ReadAt(after[:], size); err == nil && string(after[:]) == "fLaC" {
			return onair.FormatFLAC, nil
		}
		return onair.FormatMP3, nil
	}
	return "", nil
}

var errTooLong = errors.New("longer than the limit")

// measure decodes s to its end, feeding the analyzer, and returns the
// number of frames and the analysis. Mono is analysed as it is played,
// on both channels of the station's stereo mix (MP3 streams are stereo
// already). ctx is checked every 0.1 s of audio.
func measure(ctx context.Context, s decode.Stream, maxFrames int64) (int64, onair.Analysis, error) {
	rate, ch := s.SampleRate(), s.Channels()
	a := analysis.New(rate, 2)
	buf := make([]float32, max(rate/pcmChunkDiv, 1)*ch)
	var stereo []float32
	if ch == 1 {
		stereo = make([]float32, len(buf)*2)
	}
	var frames int64
	for {
		if err := ctx.Err(); err != nil {
			return frames, onair.Analysis{}, err
		}
		n, err := s.Read(buf)
		if n > 0 {
			pcm := buf[:n]
			if ch == 1 {
				for i, x := range pcm {
					stereo[2*i], stereo[2*i+1] = x, x
				}
				pcm = stereo[:2*n]
			}
			a.Write(pcm)
			frames += int64(n / ch)
			if frames > maxFrames {
				return frames, onair.Analysis{}, errTooLong
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return frames, onair.Analysis{}, err
		}
	}
	res, err := a.Result()
	return frames, res, err
}

// Analyze decodes the existing track file at path (format
// onair.FormatMP3, FormatWAV or FormatFLAC) and measures it, for tracks
// uploaded before analysis existed. Its errors wrap analysis.ErrSilent,
// the audio/decode sentinels, or ctx's error.
func Analyze(ctx context.Context, path, format string) (onair.Analysis, error) {
	s, err := decode.Open(path, format)
	if err != nil {
		return onair.Analysis{}, fmt.Errorf("ingest: analyze: %w", err)
	}
	defer func() { _ = s.Close() }() // read-only: nothing to lose
	maxFrames := int64(DefaultMaxDuration.Seconds()*float64(s.SampleRate())) + 1
	_, res, err := measure(ctx, s, maxFrames)
	if err != nil {
		return onair.Analysis{}, fmt.Errorf("ingest: analyze %s: %w", path, err)
	}
	return res, nil
}

// decodeError turns an audio/decode error into the user's error.
func decodeError(name string, err error) error {
	var unsup *decode.UnsupportedError
	var e *onair.Error
	switch {
	case errors.As(err, &unsup):
		e = onair.Errorf(onair.EUnprocessable,
			"%s: %s is not supported (accepted: MP3, 16- or 24-bit PCM WAV and FLAC, mono or stereo)", name, unsup.Encoding)
	case errors.Is(err, decode.ErrFormatChange):
		e = onair.Errorf(onair.EUnprocessable, "%s: the sample rate or channel count changes within the file", name)
	case errors.Is(err, decode.ErrNoAudio):
		e = onair.Errorf(onair.EUnprocessable, "%s: the file holds no audio", name)
	case errors.Is(err, decode.ErrCorrupt):
		e = onair.Errorf(onair.EUnprocessable, "%s: cannot be decoded: the audio is damaged or cut short", name)
	case errors.Is(err, decode.ErrUnknownFormat):
		e = onair.Errorf(onair.EUnsupported, "%s: not an audio file (MP3, WAV and FLAC are accepted)", name)
	default:
		return fmt.Errorf("ingest: %s: %w", name, err)
	}
	return fmt.Errorf("ingest: %w: %w", e, err)
}

// probeError turns an mp3.Probe error into the user's error.
func probeError(name string, err error) error {
	var code onair.Code
	var msg string
	switch {
	case errors.Is(err, mp3.ErrNoFrames):
		code, msg = onair.EUnsupported, "not an MP3 file"
	case errors.Is(err, mp3.ErrNoAudio),
		errors.Is(err, mp3.ErrLayer),
		errors.Is(err, mp3.ErrFreeFormat),
		errors.Is(err, mp3.ErrMixedFormat):
		code, msg = onair.EUnprocessable, sentinelText(err)
	default:
		return fmt.Errorf("ingest: probe %s: %w", name, err)
	}
	return fmt.Errorf("ingest: %w: %w", onair.Errorf(code, "%s: %s", name, msg), err)
}

// sentinelText is the text of the mp3 sentinel in err: the detail around
// it (offsets) is for logs, not users.
func sentinelText(err error) string {
	for _, s := range []error{mp3.ErrNoAudio, mp3.ErrLayer, mp3.ErrFreeFormat, mp3.ErrMixedFormat} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return err.Error()
}
