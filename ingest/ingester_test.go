package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/analysis"
	"github.com/onairfm/onair/audio/decode"
	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/audiotest"
)

const testdata = "../testdata"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// entries lists dir, failing the test on error.
func entries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestIngestFixtures(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		file                 string
		title, artist, album string
		ffprobe              time.Duration
		bitrate, rate, chans int
	}{
		{"tone440.mp3", "Tone 440", "Test Artist", "Fixtures", 8046 * ms, 128000, 44100, 2},
		{"tone880.mp3", "Tone 880", "Test Artist", "Fixtures", 8046 * ms, 128000, 44100, 2},
		{"tone1320.mp3", "Tone 1320", "Other Artist", "Fixtures", 8046 * ms, 128000, 44100, 2},
		{"tone1000-vbr.mp3", "Tone 1000 VBR", "Test Artist", "", 6034 * ms, 84338, 44100, 2},
		{"tone660-48k.mp3", "Tone 660 48k", "Test Artist", "", 6024 * ms, 128000, 48000, 2},
		{"tone700-mpeg2.mp3", "Tone 700 MPEG-2", "Test Artist", "", 5068 * ms, 64000, 22050, 2},
		{"tone550-mono.mp3", "Tone 550 mono", "Test Artist", "", 6034 * ms, 64000, 44100, 1},
		{"tone440-320k.mp3", "Tone 440 320k", "", "", 5042 * ms, 320000, 44100, 2},
		{"unicode.mp3", "Café ♪ Ünïcödé", "Björk Guðmundsdóttir", "Ζωή", 3030 * ms, 128000, 44100, 2},
		{"id3v1.mp3", "V1 Title", "V1 Artist", "V1 Album", 3030 * ms, 128000, 44100, 2},
		{"untagged.mp3", "untagged", "", "", 3030 * ms, 128000, 44100, 2},
		{"xss.mp3", "<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "", 3030 * ms, 128000, 44100, 2},
		{"mono48-art.mp3", "Mono Art", "", "", 1032 * ms, 64000, 48000, 1},
		// MPEG-2.5 (8 kHz): no Info frame, so ffprobe's 3.232 s is a guess
		// from the size; 44 frames of 576 samples are 3.168 s.
		{"mpeg25-8k.mp3", "MPEG 2.5", "", "", 3168 * ms, 16000, 8000, 1},
		// WAV and FLAC: Bitrate is the file's average (0 here: checked
		// against the size).
		{"wav16-440.wav", "Wave 440", "Wav Artist", "Wav Album", 1000 * ms, 0, 44100, 2},
		{"wav24-523-mono.wav", "wav24-523-mono", "", "", 1000 * ms, 0, 48000, 1},
		{"wavext24-587.wav", "wavext24-587", "", "", 1000 * ms, 0, 22050, 2},
		{"flac16-659.flac", "Flac 659", "Flac Artist", "Flac Album", 1000 * ms, 0, 44100, 2},
		{"flac24-784-mono.flac", "flac24-784-mono", "", "", 1000 * ms, 0, 48000, 1},
	}
	dir := t.TempDir()
	in := &Ingester{MediaDir: dir}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := fixture(t, tt.file)
			tr, err := in.Ingest(context.Background(), tt.file, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if tr.Title != tt.title || tr.Artist != tt.artist || tr.Album != tt.album {
				t.Errorf("tags %q / %q / %q, want %q / %q / %q", tr.Title, tr.Artist, tr.Album, tt.title, tt.artist, tt.album)
			}
			if d := (tr.Duration - tt.ffprobe).Abs(); d > 30*ms {
				t.Errorf("Duration %v, ffprobe says %v", tr.Duration, tt.ffprobe)
			}
			bitrate := tt.bitrate
			if bitrate == 0 {
				bitrate = int(float64(len(data)) * 8 / tr.Duration.Seconds())
			}
			if tr.Bitrate != bitrate || tr.SampleRate != tt.rate || tr.Channels != tt.chans {
				t.Errorf("Bitrate %d, SampleRate %d, Channels %d; want %d, %d, %d",
					tr.Bitrate, tr.SampleRate, tr.Channels, bitrate, tt.rate, tt.chans)
			}
			if want, _ := strings.CutPrefix(filepath.Ext(tt.file), "."); tr.Format != want || tr.Kind != onair.KindMusic {
				t.Errorf("Format %q, Kind %q; want %q, music", tr.Format, tr.Kind, want)
			}
			if tr.Analysis == nil || tr.Analysis.CueOut <= tr.Analysis.CueIn || tr.Analysis.CueOut > tr.Duration+50*ms {
				t.Errorf("Analysis %+v for %v of audio", tr.Analysis, tr.Duration)
			}
			if !strings.HasSuffix(tr.Path, "."+tr.Format) {
				t.Errorf("Path %q does not end in the format", tr.Path)
			}
			if tr.Filename != tt.file || tr.Size != int64(len(data)) {
				t.Errorf("Filename %q, Size %d; want %q, %d", tr.Filename, tr.Size, tt.file, len(data))
			}
			if !serverName.MatchString(tr.Path) || seen[tr.Path] {
				t.Errorf("Path %q is not a fresh server-made name", tr.Path)
			}
			seen[tr.Path] = true
			stored, err := os.ReadFile(filepath.Join(dir, tr.Path))
			if err != nil || !bytes.Equal(stored, data) {
				t.Errorf("stored file differs from the upload (%v)", err)
			}
		})
	}
	// Only the final files and the two covers are left: no temporary file.
	if got := entries(t, dir); len(got) != len(seen)+2 {
		t.Errorf("MediaDir holds %v, want the %d tracks only", got, len(seen))
	}
}

func TestIngestRejects(t *testing.T) {
	tone := fixture(t, "tone440.mp3")
	wav16 := fixture(t, "wav16-440.wav")
	flac16 := fixture(t, "flac16-659.flac")
	boom := errors.New("connection reset by peer")
	tests := []struct {
		name     string
		filename string
		r        io.Reader
		max      int64
		code     onair.Code
		msg      string // the message holds this
		cause    error  // errors.Is(err, cause) when set
	}{
		{"short wav renamed", "x.mp3", bytes.NewReader(fixture(t, "not-mp3.wav")), 0,
			onair.EUnprocessable, "x.mp3: too short to play (0.05 s", nil},
		{"png", "cover.mp3", strings.NewReader("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00\x5c\x72\xa8\x66"), 0,
			onair.EUnsupported, "cover.mp3: not an audio file", decode.ErrUnknownFormat},
		{"text", "notes.mp3", strings.NewReader("Dear listener,\nthis is plain text, not audio.\n"), 0,
			onair.EUnsupported, "notes.mp3: not an audio file", decode.ErrUnknownFormat},
		{"float wav", "f.wav", bytes.NewReader(fixture(t, "wav-float.wav")), 0,
			onair.EUnprocessable, "f.wav: WAV with 32-bit float samples is not supported", decode.ErrUnsupported},
		{"8-bit wav", "8.wav", bytes.NewReader(fixture(t, "wav-8bit.wav")), 0,
			onair.EUnprocessable, "8.wav: WAV with 8-bit PCM is not supported", decode.ErrUnsupported},
		{"adpcm wav", "a.wav", bytes.NewReader(fixture(t, "wav-adpcm.wav")), 0,
			onair.EUnprocessable, "a.wav: WAV with IMA ADPCM audio is not supported", decode.ErrUnsupported},
		{"3-channel wav", "3.wav", bytes.NewReader(fixture(t, "wav-3ch.wav")), 0,
			onair.EUnprocessable, "3.wav: WAV with 3 channels is not supported", decode.ErrUnsupported},
		{"3-channel flac", "3.flac", bytes.NewReader(fixture(t, "flac-3ch.flac")), 0,
			onair.EUnprocessable, "3.flac: FLAC with 3 channels is not supported", decode.ErrUnsupported},
		{"cut wav", "cut.wav", bytes.NewReader(wav16[:len(wav16)*2/3]), 0,
			onair.EUnprocessable, "cut.wav: cannot be decoded", decode.ErrCorrupt},
		{"cut flac", "cut.flac", bytes.NewReader(flac16[:len(flac16)*2/3]), 0,
			onair.EUnprocessable, "cut.flac: cannot be decoded", decode.ErrCorrupt},
		{"silent wav", "quiet.wav", bytes.NewReader(pcmWAV(make([]int16, 44100*2), 44100, 2)), 0,
			onair.EUnprocessable, "quiet.wav: the audio is silent", analysis.ErrSilent},
		{"short wav", "short.wav", bytes.NewReader(pcmWAV(sine(440, 44100, 0.3), 44100, 1)), 0,
			onair.EUnprocessable, "short.wav: too short to play (0.30 s", nil},
		{"long wav", "long.wav", bytes.NewReader(pcmWAV(sine(440, 8000, 3), 8000, 1)), 0,
			onair.EUnprocessable, "long.wav: too long (more than 2s of audio)", nil},
		{"tiny frames", "tiny.mp3", bytes.NewReader(tinyFrames(1 << 20)), 0,
			onair.EUnprocessable, "tiny.mp3: bitrate too low (8 kbit/s", nil},
		{"empty", "empty.mp3", strings.NewReader(""), 0,
			onair.EUnprocessable, "empty.mp3: empty file", nil},
		{"first 100 bytes", "cut.mp3", bytes.NewReader(tone[:100]), 0,
			onair.EUnprocessable, "cut.mp3: no complete MPEG audio frame", mp3.ErrNoAudio},
		{"too short", "blip.mp3", bytes.NewReader(tone[:175+417*6]), 0,
			onair.EUnprocessable, "blip.mp3: too short to play", nil},
		{"layer ii", "old.mp2", bytes.NewReader(layer2()), 0,
			onair.EUnprocessable, "old.mp2: only MPEG layer III (MP3) is supported", mp3.ErrLayer},
		// 60 of the 80 frames: under the test's 2 s limit, so that the
		// decoding, not the headers' length, is what refuses them.
		{"garbage payloads", "noise.mp3", bytes.NewReader(audiotest.GarbageMP3Frames()[:60*417]), 0,
			onair.EUnprocessable, "noise.mp3: cannot be decoded: ", nil},
		{"mixed rates", "mix.mp3", bytes.NewReader(append(bytes.Clone(tone), fixture(t, "tone660-48k.mp3")...)), 0,
			onair.EUnprocessable, "mix.mp3: MPEG version, layer or sample rate changes", mp3.ErrMixedFormat},
		{"too large", "big.mp3", bytes.NewReader(tone), 100 << 10,
			onair.ETooLarge, "big.mp3: file is larger than the 100 KiB limit", nil},
		{"too large MiB", "big.mp3", io.LimitReader(zeros{}, 3<<20), 2 << 20,
			onair.ETooLarge, "big.mp3: file is larger than the 2 MiB limit", nil},
		{"interrupted upload", "half.mp3", io.MultiReader(bytes.NewReader(tone[:60000]), iotest.ErrReader(boom)), 0,
			onair.EInvalid, "half.mp3: upload interrupted", boom},
		{"reader stuck", "stuck.mp3", stuckReader{}, 0,
			onair.EInvalid, "stuck.mp3: upload interrupted", io.ErrNoProgress},
		{"path in name", `C:\Users\me\..\evil.wav`, bytes.NewReader(fixture(t, "not-mp3.wav")), 0,
			onair.EUnprocessable, "evil.wav: too short to play", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := &Ingester{MediaDir: dir, MaxBytes: tt.max, MaxDuration: 2 * time.Second}
			tr, err := in.Ingest(context.Background(), tt.filename, tt.r)
			if err == nil {
				t.Fatalf("accepted: %+v", tr)
			}
			if code := onair.ErrorCode(err); code != tt.code {
				t.Errorf("code %q, want %q (%v)", code, tt.code, err)
			}
			if msg := onair.ErrorMessage(err); !strings.HasPrefix(msg, tt.msg) {
				t.Errorf("message %q, want it to start with %q", msg, tt.msg)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
			if got := entries(t, dir); len(got) != 0 {
				t.Errorf("MediaDir not empty after a rejection: %v", got)
			}
		})
	}
}

type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// layer2 is a second of valid MPEG-1 layer II frames (silent payload).
func layer2() []byte {
	h, _ := mp3.ParseHeader([]byte{0xFF, 0xFD, 0xC0, 0x04})
	var out []byte
	for range 40 {
		f := make([]byte, h.FrameSize)
		copy(f, []byte{0xFF, 0xFD, 0xC0, 0x04})
		out = append(out, f...)
	}
	return out
}

// TestIngestMPEG25: an 8 kHz MPEG-2.5 upload is analysed like any other:
// its loudness is that of the mono 0.5 sine played on both channels,
// -7.1 LUFS by ffmpeg's ebur128 (pan=stereo|c0=c0|c1=c0,ebur128).
func TestIngestMPEG25(t *testing.T) {
	in := &Ingester{MediaDir: t.TempDir()}
	tr, err := in.Ingest(context.Background(), "low.mp3", bytes.NewReader(fixture(t, "mpeg25-8k.mp3")))
	if err != nil {
		t.Fatal(err)
	}
	if tr.SampleRate != 8000 || tr.Duration != 3168*time.Millisecond {
		t.Errorf("SampleRate %d, Duration %v; want 8000, 3.168s", tr.SampleRate, tr.Duration)
	}
	if tr.Analysis == nil {
		t.Fatal("no analysis")
	}
	if l := tr.Analysis.Loudness; math.Abs(l-(-7.1)) > 0.2 {
		t.Errorf("Loudness %.2f LUFS, ffmpeg says -7.1", l)
	}
	if tr.Analysis.CueIn > 100*time.Millisecond || tr.Analysis.CueOut < 3*time.Second {
		t.Errorf("cues %v to %v: the tone fills the file", tr.Analysis.CueIn, tr.Analysis.CueOut)
	}
}

// TestMinBitrate: the bitrate floor is per sample, so it falls with the
// rate below 44.1 kHz, and no MPEG-2.5 bitrate (8 kbit/s and up) is under
// it at 8 kHz.
func TestMinBitrate(t *testing.T) {
	for _, tt := range []struct{ rate, want int }{
		{0, MinBitrate}, {48000, MinBitrate}, {44100, MinBitrate},
		{32000, 17414}, {24000, 13061}, {22050, 12000}, {11025, 6000}, {8000, 4353},
	} {
		if got := minBitrate(tt.rate); got != tt.want {
			t.Errorf("minBitrate(%d) = %d, want %d", tt.rate, got, tt.want)
		}
	}
}

// measure stops at the length limit and on a cancelled context.
func TestMeasure(t *testing.T) {
	s, err := decode.Open(filepath.Join(testdata, "tone700-mpeg2.mp3"), onair.FormatMP3)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, err := mp3.Probe(bytes.NewReader(fixture(t, "tone700-mpeg2.mp3")))
	if err != nil {
		t.Fatal(err)
	}
	frames, res, err := measure(context.Background(), s, 1<<30)
	if err != nil || frames != info.Samples {
		t.Fatalf("measure: %d frames, %v; want %d", frames, err, info.Samples)
	}
	if res.Loudness > -3 || res.Loudness < -20 || res.CueOut < 5*time.Second {
		t.Errorf("analysis %+v", res)
	}
	if err := s.SeekFrame(0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := measure(context.Background(), s, 22050); !errors.Is(err, errTooLong) {
		t.Errorf("measure over the limit: %v, want errTooLong", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := measure(ctx, s, 1<<30); !errors.Is(err, context.Canceled) {
		t.Errorf("measure with a cancelled ctx: %v", err)
	}
}

// cancelReader cancels its context once n bytes have been read.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	m, err := c.r.Read(p)
	c.n -= m
	if c.n <= 0 {
		c.cancel()
	}
	return m, err
}

func TestIngestCancelled(t *testing.T) {
	tone := fixture(t, "tone440.mp3")
	t.Run("before", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := (&Ingester{MediaDir: dir}).Ingest(ctx, "a.mp3", bytes.NewReader(tone))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if got := entries(t, dir); len(got) != 0 {
			t.Errorf("MediaDir not empty: %v", got)
		}
	})
	t.Run("during upload", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := &cancelReader{r: iotest.HalfReader(bytes.NewReader(tone)), n: 20000, cancel: cancel}
		_, err := (&Ingester{MediaDir: dir}).Ingest(ctx, "a.mp3", r)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if got := entries(t, dir); len(got) != 0 {
			t.Errorf("MediaDir not empty: %v", got)
		}
	})
}

func TestIngestFilenameStaysInside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "media") // made by Ingest
	in := &Ingester{MediaDir: dir}
	tr, err := in.Ingest(context.Background(), "../../x.mp3", bytes.NewReader(fixture(t, "untagged.mp3")))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Filename != "x.mp3" || tr.Title != "x" {
		t.Errorf("Filename %q, Title %q; want x.mp3, x", tr.Filename, tr.Title)
	}
	if got := entries(t, dir); len(got) != 1 || got[0] != tr.Path {
		t.Errorf("MediaDir holds %v, want only %s", got, tr.Path)
	}
	if got := entries(t, root); len(got) != 1 || got[0] != "a" {
		t.Errorf("a file escaped MediaDir: %v", got)
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "keep.mp3")
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := &Ingester{MediaDir: dir}
	tr, err := in.Ingest(context.Background(), "t.mp3", bytes.NewReader(fixture(t, "tone440.mp3")))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Remove(tr); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, tr.Path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file still there after Remove: %v", err)
	}
	if err := in.Remove(tr); err != nil {
		t.Errorf("second Remove: %v, want nil (already gone)", err)
	}
	for _, p := range []string{"keep.mp3", "../keep.mp3", "", ".", "/etc/passwd", "0123456789abcdef0123456789abcdef.mp3/.."} {
		if err := in.Remove(onair.Track{Path: p}); !errors.Is(err, ErrBadPath) {
			t.Errorf("Remove(%q) = %v, want ErrBadPath", p, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("Remove deleted a file it did not make: %v", err)
	}
	if _, err := (&Ingester{}).Ingest(context.Background(), "a.mp3", strings.NewReader("x")); !errors.Is(err, ErrNoMediaDir) {
		t.Errorf("Ingest without MediaDir: %v, want ErrNoMediaDir", err)
	}
}

func TestCleanFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"song.mp3", "song.mp3"},
		{"../../x.mp3", "x.mp3"},
		{`C:\a\b.mp3`, "b.mp3"},
		{"/etc/passwd", "passwd"},
		{"", "upload"},
		{"..", "upload"},
		{"dir/", "upload"},
		{"a\x00b\nc.mp3", "a / b c.mp3"},
		{"  spaced   out .mp3 ", "spaced out .mp3"},
		{"Café ♪.mp3", "Café ♪.mp3"},
		{"evil\u202Egnp.mp3", "evilgnp.mp3"},
		{strings.Repeat("é", 300) + ".mp3", strings.Repeat("é", MaxTextRunes)},
	}
	for _, tt := range tests {
		if got := CleanFilename(tt.in); got != tt.want {
			t.Errorf("CleanFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{DefaultMaxBytes, "200 MiB"}, {1 << 30, "1 GiB"}, {3 << 19, "1.5 MiB"},
		{100 << 10, "100 KiB"}, {1500, "1.5 KiB"}, {999, "999 bytes"},
	}
	for _, tt := range tests {
		if got := formatSize(tt.n); got != tt.want {
			t.Errorf("formatSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Title  ", "Title"},
		{"Tab\there", "Tab here"},
		{"Bell\x07", "Bell"},
		{"One\x00Two\x00", "One / Two"},
		{"Caf\xe9", "Café"}, // Latin-1, as in ID3v1
		{"\uFEFFBOM", "BOM"},
		{"Björk Guðmundsdóttir", "Björk Guðmundsdóttir"},
		{"日本語 🎵", "日本語 🎵"},
		{"\x00\x00", ""},
		{strings.Repeat("ab ", 200), strings.TrimSpace(strings.Repeat("ab ", 200)[:MaxTextRunes])},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A title in the ID3v2 tag, artist only in the ID3v1 tag: both are used.
func TestTagsMerged(t *testing.T) {
	data := fixture(t, "tone1000-vbr.mp3") // ID3v2: title and artist, no album
	v1 := make([]byte, 128)
	copy(v1, "TAG")
	copy(v1[3:], "v1 title")
	copy(v1[63:], "Album \xc0 la v1\x00junk")
	data = append(bytes.Clone(data), v1...)
	tr, err := (&Ingester{MediaDir: t.TempDir()}).Ingest(context.Background(), "m.mp3", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Title != "Tone 1000 VBR" || tr.Album != "Album À la v1" {
		t.Errorf("Title %q, Album %q; want the v2 title and the v1 album", tr.Title, tr.Album)
	}
}

// audioFrames returns the audio frames of a fixture, concatenated.
func audioFrames(t testing.TB, name string) []byte {
	t.Helper()
	r := mp3.NewAudioReader(mp3.NewScanner(bytes.NewReader(fixture(t, name))))
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkIngest5min320k(b *testing.B) {
	audio := audioFrames(b, "tone440-320k.mp3") // 5.04 s
	data := bytes.Repeat(audio, 60)             // 5 min 2 s, 12 MB
	in := &Ingester{MediaDir: b.TempDir()}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		tr, err := in.Ingest(context.Background(), "long.mp3", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if tr.Duration < 5*time.Minute || tr.Bitrate != 320000 {
			b.Fatalf("Duration %v, Bitrate %d", tr.Duration, tr.Bitrate)
		}
		if err := in.Remove(tr); err != nil {
			b.Fatal(err)
		}
	}
}
