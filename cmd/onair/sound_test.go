package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/testutil"
)

// soundTrack is a file the sound tests make with ffmpeg: a pure tone, so
// that the stream can be cut back into its tracks by frequency.
type soundTrack struct {
	file     string  // name, whose extension picks the format
	freq     float64 // Hz
	rate     int     // of the file
	channels int
	volume   float64 // dB applied to ffmpeg's sine (peak -18 dBFS, on each channel)
	title    string
}

// mixedPlaylist is five tones in three formats at three rates, mono and
// stereo, whose loudness spans 23 LU as a station plays them (mono on
// both channels): about -9, -32, -21, -29 and -11 LUFS.
var mixedPlaylist = []soundTrack{
	{"a-44k-stereo.mp3", 440, 44100, 2, 10, "Tone 440"},
	{"b-48k-mono.mp3", 660, 48000, 1, -13, "Tone 660"},
	{"c-22k-stereo.mp3", 880, 22050, 2, -2, "Tone 880"},
	{"d-48k-stereo.wav", 550, 48000, 2, -10, "Tone 550"},
	{"e-44k-mono.flac", 770, 44100, 1, 8, "Tone 770"},
}

const (
	soundTrackSeconds = 5
	soundCrossfadeMS  = 1000
	soundTargetLUFS   = -16.0
	// soundWindow is the length over which the stream is cut into tones:
	// a whole number of periods of every tone of the tests.
	soundWindow = 100 * time.Millisecond
)

// makeTrack writes tr into dir with ffmpeg and returns it for upload.
func makeTrack(t *testing.T, ffmpeg, dir string, tr soundTrack, seconds float64) namedFile {
	t.Helper()
	codec := map[string][]string{
		".mp3":  {"-c:a", "libmp3lame", "-b:a", "128k"},
		".wav":  {"-c:a", "pcm_s16le"},
		".flac": {"-c:a", "flac"},
	}[filepath.Ext(tr.file)]
	path := filepath.Join(dir, tr.file)
	af := fmt.Sprintf("volume=%gdB", tr.volume)
	if tr.channels == 2 {
		// The same tone at full level on both channels (-ac 2 would
		// take 3 dB off).
		af = "pan=stereo|c0=c0|c1=c0," + af
	}
	runTool(t, 60*time.Second, nil, ffmpeg, append([]string{"-nostdin", "-v", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%g:sample_rate=%d:duration=%g", tr.freq, tr.rate, seconds),
		"-af", af,
		"-metadata", "title=" + tr.title, "-metadata", "artist=Mix FM"}, append(codec, path)...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return namedFile{tr.file, b}
}

// soundStation creates a live station playing tracks with the given audio
// settings; every file must be taken.
func (s *server) soundStation(token, name string, files []namedFile, audio map[string]any) string {
	s.t.Helper()
	var st struct{ Slug string }
	s.must(201, "POST", "/api/stations", token, map[string]string{"name": name, "genre": "Tones"}, &st)
	status, res := s.upload(token, st.Slug, files...)
	if status != 201 || len(res.Tracks) != len(files) || len(res.Errors) > 0 {
		s.t.Fatalf("upload of a mixed playlist: %d %+v", status, res)
	}
	var out struct {
		Audio struct {
			CrossfadeMS int `json:"crossfade_ms"`
			Loudness    struct {
				Enabled    bool    `json:"enabled"`
				TargetLUFS float64 `json:"target_lufs"`
			} `json:"loudness"`
		} `json:"audio"`
	}
	s.must(200, "PATCH", "/api/stations/"+st.Slug, token, map[string]any{"audio": audio}, &out)
	want := audio["loudness"].(map[string]any)
	if out.Audio.CrossfadeMS != audio["crossfade_ms"] || out.Audio.Loudness.Enabled != want["enabled"] {
		s.t.Fatalf("PATCH audio %v answered %+v", audio, out.Audio)
	}
	s.must(200, "POST", "/api/stations/"+st.Slug+"/start", token, nil, nil)
	return st.Slug
}

// TestMixedPlaylistSound plays a station whose playlist mixes MP3, WAV and
// FLAC at 44.1, 48 and 22.05 kHz, mono and stereo, 21 LU apart, with a 1 s
// crossfade and loudness normalisation, through the tools listeners use:
//
//   - ffmpeg records the MP3 stream; its ebur128 filter measures each
//     track at the target, the true peak under -1 dBTP, silencedetect
//     finds no gap, and each crossfade holds both tones;
//   - the Ogg/Opus mount decodes in ffprobe and mpv, with its titles;
//   - mpv and VLC play the MP3 stream without a decoder error, and neither
//     recording ever changes sample rate or channels (ffprobe, per frame).
//
// Nothing here is timed: the tools run for a bounded stream length and
// their output is judged afterwards.
func TestMixedPlaylistSound(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	ffprobe := testutil.NeedTool(t, "ffprobe")
	dir := t.TempDir()
	var files []namedFile
	for _, tr := range mixedPlaylist {
		files = append(files, makeTrack(t, ffmpeg, dir, tr, soundTrackSeconds))
	}
	var skips atomic.Int64
	s := startServerLogged(t, "", nil, countSkips(&skips))
	tok := s.owner("mixer")
	slug := s.soundStation(tok, "Mix FM", files, map[string]any{
		"crossfade_ms": soundCrossfadeMS,
		"loudness":     map[string]any{"enabled": true, "target_lufs": soundTargetLUFS},
	})
	url := s.URL + "/stream/" + slug
	titles := map[string]bool{}
	for _, tr := range mixedPlaylist {
		titles["Mix FM - "+tr.title] = true
	}

	t.Run("mp3", func(t *testing.T) {
		t.Parallel()
		// 24 s of stream: one whole round of the playlist (5 × 4 s) and
		// then some, so that every track's steady part is heard whole.
		rec := filepath.Join(t.TempDir(), "rec.mp3")
		n := skips.Load()
		runTool(t, 120*time.Second, nil, ffmpeg, "-nostdin", "-v", "error", "-i", url, "-t", "24",
			"-c", "copy", "-f", "mp3", "-id3v2_version", "0", "-write_xing", "0", rec)
		checkConstantFormat(t, ffmpeg, ffprobe, rec, 44100, "stereo")
		checkMix(t, ffmpeg, rec, mixedPlaylist, skips.Load()-n)
	})
	t.Run("ogg", func(t *testing.T) {
		t.Parallel()
		out := runTool(t, 60*time.Second, nil, ffprobe, "-v", "error",
			"-show_entries", "stream=codec_name,sample_rate,channels:format_tags=title,artist:stream_tags=title,artist",
			"-of", "default=nw=1", url+".opus")
		for _, want := range []string{"codec_name=opus", "sample_rate=48000", "channels=2", "TAG:ARTIST=Mix FM", "TAG:TITLE=Tone "} {
			if !strings.Contains(out, want) {
				t.Errorf("ffprobe of the Ogg/Opus mount: no %q in\n%s", want, out)
			}
		}
		// The same 24 s as a player gets them (96 kbit/s and the pages'
		// overhead), chained streams and all: the same checks as MP3.
		rec := filepath.Join(t.TempDir(), "rec.opus")
		n := skips.Load()
		readStream(t, url+".opus", rec, 96000/8*25)
		checkConstantFormat(t, ffmpeg, ffprobe, rec, 48000, "stereo")
		checkMix(t, ffmpeg, rec, mixedPlaylist, skips.Load()-n)
	})
	t.Run("mpv-ogg", func(t *testing.T) {
		t.Parallel()
		mpv := testutil.NeedTool(t, "mpv")
		out := runTool(t, 60*time.Second, nil, mpv, "--no-config", "--no-video", "--ao=null", "--length=12", "--quiet", url+".opus")
		checkPlayerLog(t, "mpv (Ogg/Opus)", out)
		// mpv prints the tags of each chained stream, joined to the
		// earlier ones with ';': the last is the one playing.
		seen := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			if _, v, ok := strings.Cut(line, " Title: "); ok {
				parts := strings.Split(strings.TrimSpace(v), ";")
				title := "Mix FM - " + parts[len(parts)-1]
				if !titles[title] {
					t.Errorf("mpv showed an unknown title %q", title)
				}
				seen[title] = true
			}
		}
		if len(seen) < 2 {
			t.Errorf("mpv showed %d title(s) on the Ogg/Opus mount, want a change between two:\n%s", len(seen), out)
		}
	})
	t.Run("mpv", func(t *testing.T) {
		t.Parallel()
		mpv := testutil.NeedTool(t, "mpv")
		out := runTool(t, 60*time.Second, nil, mpv, "--no-config", "--no-video", "--ao=null", "--length=12", "--quiet", url)
		checkPlayerLog(t, "mpv (MP3)", out)
		seen := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			if _, title, ok := strings.Cut(line, "icy-title: "); ok {
				seen[strings.TrimSpace(title)] = true
			}
		}
		if len(seen) < 2 {
			t.Errorf("mpv showed %d ICY title(s), want a change between two:\n%s", len(seen), out)
		}
	})
	t.Run("vlc", func(t *testing.T) {
		t.Parallel()
		cvlc := testutil.NeedTool(t, "cvlc")
		out := runTool(t, 60*time.Second, asUnprivileged(t), cvlc, "-I", "dummy", "--aout=dummy", "--play-and-exit", "--run-time=12", "-vv", url)
		if !strings.Contains(out, `using audio decoder module "mpg123"`) {
			t.Error("VLC did not decode with mpg123")
		}
		formats := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "decoder error") || strings.Contains(line, "Frankenstein") ||
				strings.Contains(line, "need ") && strings.Contains(line, "external buffer") {
				t.Errorf("VLC: %s", line)
			}
			// "input 'f32l' 44100 Hz Stereo frame=...": what the decoder
			// hands the audio output, logged at each (re)start.
			if _, f, ok := strings.Cut(line, "audio output debug: input '"); ok {
				formats[f] = true
			}
		}
		if len(formats) != 1 {
			t.Errorf("VLC's decoder output had %d formats, want one: %v", len(formats), formats)
		}
	})
}

// TestLimiterCeiling plays two full-scale tones with loudness
// normalisation off, so that the mix's own peaks (and the sum of both
// tones over the crossfade, 3 dB more) are over the ceiling, and measures
// what reaches a listener: the limiter holds the mix at -1 dBTP, and what
// a decoder gives back may stand a little over it, because the codec's
// quantisation error adds to each peak (codecOvershoot). The MP3 mount
// keeps more headroom of its own (audio/mp3enc: shine overflows near full
// scale), so its peaks stand lower.
func TestLimiterCeiling(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	testutil.NeedTool(t, "ffprobe")
	dir := t.TempDir()
	hot := []soundTrack{
		{"hot-440.wav", 440, 44100, 2, 17.8, "Hot 440"},
		{"hot-660.flac", 660, 48000, 2, 17.8, "Hot 660"},
	}
	var files []namedFile
	for _, tr := range hot {
		files = append(files, makeTrack(t, ffmpeg, dir, tr, 4))
	}
	s := startServer(t, "")
	tok := s.owner("hot")
	slug := s.soundStation(tok, "Hot FM", files, map[string]any{
		"crossfade_ms": soundCrossfadeMS,
		"loudness":     map[string]any{"enabled": false},
	})
	url := s.URL + "/stream/" + slug
	for _, c := range []struct {
		name, path string
		ceiling    float64 // dBTP the output's encoder is fed at most
	}{
		{"mp3", url, mp3CeilingDBTP},
		{"ogg", url + ".opus", -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// 12 s: the 4 s burst and two crossfades at least.
			rec := filepath.Join(t.TempDir(), "rec")
			runTool(t, 90*time.Second, nil, ffmpeg, "-nostdin", "-v", "error", "-i", c.path, "-t", "12", "-c", "copy", "-f", c.name, rec)
			_, peak := ebur128(t, ffmpeg, decodeWAV(t, ffmpeg, rec), "")
			t.Logf("%s: true peak %.2f dBTP after decoding (encoder fed at most %.0f dBTP, codec allowance %.1f dB)", c.name, peak, c.ceiling, codecOvershoot)
			if peak > c.ceiling+codecOvershoot {
				t.Errorf("%s: true peak %.2f dBTP, over the %.0f dBTP ceiling by more than a codec's %.1f dB", c.name, peak, c.ceiling, codecOvershoot)
			}
			if peak < c.ceiling-2 {
				t.Errorf("%s: true peak %.2f dBTP: the tones are full scale, the limiters should hold them near %.0f", c.name, peak, c.ceiling)
			}
		})
	}
}

// codecOvershoot is what a lossy codec may add to a peak held at its
// ceiling: the quantisation error of the decoded signal adds to its
// largest samples. Measured with TestLimiterCeiling on full-scale tones:
// Opus 0.0-0.2 dB over -1 dBTP; MP3 -3.2 dBTP, from shine fed at most
// -4 dBTP by audio/mp3enc.
const codecOvershoot = 0.5

// mp3CeilingDBTP is the MP3 mount's own ceiling: audio/mp3enc limits what
// it feeds shine to -4 dBTP (shine's filter bank overflows above about
// -3 dBFS; a mix held at -1 dBTP decoded at +3.0 dBTP before) and
// promises frames that decode under -3 dBTP.
const mp3CeilingDBTP = -3

// readStream saves at least n bytes of the stream at url in name.
func readStream(t *testing.T, url, name string, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, resp.Body, n); err != nil {
		t.Fatalf("reading %d bytes of %s: %v", n, url, err)
	}
}

// checkConstantFormat requires that every audio frame of the recording
// decodes at rate Hz with layout ("stereo"): ffprobe's frames say the
// channels, ffmpeg's ashowinfo the rate. Both read the recording as the
// stream it was, through a pipe: on a file, ffmpeg's Ogg demuxer looks at
// the end for the duration and reports the later chained stream there as
// an error.
func checkConstantFormat(t *testing.T, ffmpeg, ffprobe, rec string, rate int, layout string) {
	t.Helper()
	out := runPiped(t, rec, ffprobe, "-v", "error", "-select_streams", "a",
		"-show_entries", "frame=channels,channel_layout", "-of", "csv=p=0", "pipe:0")
	frames := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		frames++
		if want := "2," + layout; strings.TrimSpace(line) != want {
			t.Errorf("%s: ffprobe: a frame decodes as %q, want %q", filepath.Base(rec), line, want)
			return
		}
	}
	if frames < 100 {
		t.Errorf("%s: ffprobe saw %d frames", filepath.Base(rec), frames)
	}
	out = runPiped(t, rec, ffmpeg, "-hide_banner", "-nostats", "-i", "pipe:0", "-af", "ashowinfo", "-f", "null", "-")
	formats := map[string]int{}
	for _, m := range reShowInfo.FindAllStringSubmatch(out, -1) {
		formats[m[1]+" "+m[2]]++
	}
	if want := fmt.Sprintf("%s %d", layout, rate); len(formats) != 1 || formats[want] < 100 {
		t.Errorf("%s: ffmpeg decoded frames as %v, want all %s", filepath.Base(rec), formats, want)
	}
}

var reShowInfo = regexp.MustCompile(`chlayout:(\S+) rate:(\d+)`)

// runPiped runs a tool on the file rec given as its standard input and
// returns its combined output; a non-zero exit fails the test.
func runPiped(t *testing.T, rec, name string, args ...string) string {
	t.Helper()
	f, err := os.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return runTool(t, 60*time.Second, func(cmd *exec.Cmd) { cmd.Stdin = f }, name, args...)
}

// decodeWAV decodes a recording (through a pipe, see checkConstantFormat)
// to a float WAV file next to it, at its own rate, and returns its name.
func decodeWAV(t *testing.T, ffmpeg, rec string) string {
	t.Helper()
	wav := rec + ".wav"
	runPiped(t, rec, ffmpeg, "-nostdin", "-v", "error", "-i", "pipe:0", "-c:a", "pcm_f32le", wav)
	return wav
}

// checkPlayerLog fails on the errors mpv reports while decoding, and on
// a change of the audio output's format (mpv prints "AO:" at each).
func checkPlayerLog(t *testing.T, player, out string) {
	t.Helper()
	ao := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "AO: ") {
			ao++
		}
		l := strings.ToLower(line)
		if strings.Contains(l, "error") || strings.Contains(l, "invalid") || strings.Contains(l, "corrupt") {
			t.Errorf("%s: %s", player, line)
		}
	}
	if ao != 1 {
		t.Errorf("%s opened its audio output %d times, want once (a format change reopens it):\n%s", player, ao, out)
	}
}

var (
	reLoudness = regexp.MustCompile(`I:\s+(-?[0-9.]+|-inf) LUFS`)
	rePeak     = regexp.MustCompile(`Peak:\s+(-?[0-9.]+|-inf) dBFS`)
)

// ebur128 measures the recording (or the part filter selects, e.g.
// "atrim=start=2:end=4") with ffmpeg's ebur128 filter: integrated
// loudness in LUFS and true peak in dBTP.
func ebur128(t *testing.T, ffmpeg, rec, filter string) (loudness, peak float64) {
	t.Helper()
	af := "ebur128=peak=true:framelog=verbose"
	if filter != "" {
		af = filter + "," + af
	}
	out := runTool(t, 60*time.Second, nil, ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-i", rec, "-af", af, "-f", "null", "-")
	i, p := reLoudness.FindAllStringSubmatch(out, -1), rePeak.FindAllStringSubmatch(out, -1)
	if len(i) == 0 || len(p) == 0 {
		t.Fatalf("no ebur128 summary in\n%s", out)
	}
	return parseDB(i[len(i)-1][1]), parseDB(p[len(p)-1][1])
}

func parseDB(s string) float64 {
	if s == "-inf" {
		return math.Inf(-1)
	}
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// toneRun is a stretch of the recording where one tone alone plays:
// windows [from, to).
type toneRun struct {
	tone     int // index in the playlist
	from, to int
}

// checkMix cuts the recording into its tracks by tone and checks each
// track's loudness, the true peak, the crossfades and that nothing in it
// is silent. skips is how often the station's clock skipped ahead during
// the recording: on a machine too busy to run the station in real time,
// its audio jumps, so only the loudness of the tracks heard and the true
// peak are judged then (not the order, the crossfades, the gaps, nor that
// every track was heard).
func checkMix(t *testing.T, ffmpeg, rec string, playlist []soundTrack, skips int64) {
	t.Helper()
	const rate = 44100
	rec = decodeWAV(t, ffmpeg, rec)
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", rec, "-ac", "1", "-ar", strconv.Itoa(rate), "-f", "f32le", "pipe:1")
	raw, err := outputWithin(cmd, 60*time.Second)
	if err != nil {
		t.Fatalf("decoding the recording: %v", err)
	}
	win := int(soundWindow.Seconds() * rate)
	var shares [][]float64 // per window, per track: share of the energy
	for at := 0; at+4*win <= len(raw)/4; at += win {
		x := make([]float64, win)
		for i := range x {
			x[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(at+i):])))
		}
		sh := make([]float64, len(playlist))
		if audiotest.RMS(x) > 1e-4 {
			for k, tr := range playlist {
				sh[k] = audiotest.Power(x, rate, tr.freq)
			}
		}
		shares = append(shares, sh)
	}
	runs := toneRuns(shares)
	if len(runs) < len(playlist) && skips == 0 {
		t.Fatalf("the recording holds %d steady tones, want at least %d", len(runs), len(playlist))
	}
	secs := func(w int) float64 { return float64(w) * soundWindow.Seconds() }

	// Each track, in order, at the target; each change a crossfade.
	if skips > 0 {
		t.Logf("the station's clock skipped ahead %d time(s) while recording (the machine was starved): play order, crossfades and gaps not judged", skips)
	}
	measured := map[int]bool{}
	for i, r := range runs {
		if i > 0 && skips == 0 {
			prev := runs[i-1]
			if want := (prev.tone + 1) % len(playlist); r.tone != want {
				t.Errorf("at %.1f s %s follows %s, want %s", secs(r.from), playlist[r.tone].title, playlist[prev.tone].title, playlist[want].title)
			}
			both := 0
			for w := prev.to; w < r.from; w++ {
				if shares[w][prev.tone] >= 0.1 && shares[w][r.tone] >= 0.1 {
					both++
				}
			}
			if both == 0 {
				t.Errorf("%.1f–%.1f s: no window holds both %s and %s: no crossfade", secs(prev.to), secs(r.from), playlist[prev.tone].title, playlist[r.tone].title)
			}
		}
		// Whole steady parts only (3 s; the recording's ends cut some),
		// less 0.2 s at each side.
		if secs(r.to-r.from) < 2 {
			continue
		}
		from, to := secs(r.from)+0.2, secs(r.to)-0.2
		lufs, _ := ebur128(t, ffmpeg, rec, fmt.Sprintf("atrim=start=%.2f:end=%.2f", from, to))
		t.Logf("%s (%d Hz %d ch %s), %.1f–%.1f s: %.2f LUFS", playlist[r.tone].title, playlist[r.tone].rate,
			playlist[r.tone].channels, filepath.Ext(playlist[r.tone].file), from, to, lufs)
		if math.Abs(lufs-soundTargetLUFS) > 1 {
			t.Errorf("%s at %.1f–%.1f s: %.2f LUFS, want %.0f ± 1", playlist[r.tone].title, from, to, lufs, soundTargetLUFS)
		}
		measured[r.tone] = true
	}
	for k, tr := range playlist {
		if !measured[k] && skips == 0 {
			t.Errorf("%s: no whole steady part in the recording to measure", tr.title)
		}
	}

	_, peak := ebur128(t, ffmpeg, rec, "")
	t.Logf("true peak of the recording: %.2f dBTP", peak)
	if peak > -1 {
		t.Errorf("true peak %.2f dBTP, over the -1 dBTP ceiling", peak)
	}
	if skips > 0 {
		return
	}
	out := runTool(t, 60*time.Second, nil, ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-i", rec,
		"-af", "silencedetect=noise=-50dB:d=0.1", "-f", "null", "-")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "silence_start") || strings.Contains(line, "silence_end") {
			t.Errorf("silencedetect: %s", strings.TrimSpace(line))
		}
	}
}

// countSkips wraps a log handler so that n counts the server's "station
// clock fell behind; skipping ahead" warnings.
func countSkips(n *atomic.Int64) func(slog.Handler) slog.Handler {
	return func(h slog.Handler) slog.Handler { return skipCounter{h, n} }
}

type skipCounter struct {
	slog.Handler
	n *atomic.Int64
}

func (h skipCounter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.Handler.Enabled(ctx, l)
}

func (h skipCounter) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "clock fell behind") {
		h.n.Add(1)
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h skipCounter) WithAttrs(as []slog.Attr) slog.Handler {
	return skipCounter{h.Handler.WithAttrs(as), h.n}
}

func (h skipCounter) WithGroup(name string) slog.Handler {
	return skipCounter{h.Handler.WithGroup(name), h.n}
}

// toneRuns finds the stretches where a single tone holds at least 90% of
// the energy, window after window.
func toneRuns(shares [][]float64) []toneRun {
	var runs []toneRun
	cur := toneRun{tone: -1}
	for w, sh := range shares {
		tone := slices.IndexFunc(sh, func(s float64) bool { return s >= 0.9 })
		if tone == cur.tone && tone >= 0 {
			cur.to = w + 1
			continue
		}
		runs = addRun(runs, cur)
		cur = toneRun{tone: tone, from: w, to: w + 1}
	}
	return addRun(runs, cur)
}

// addRun appends r to runs when it is a tone for 3 windows or more,
// joining it to the last run when that is the same tone: a window or two
// of codec noise inside a track is not a track change.
func addRun(runs []toneRun, r toneRun) []toneRun {
	if r.tone < 0 || r.to-r.from < 3 {
		return runs
	}
	if n := len(runs); n > 0 && runs[n-1].tone == r.tone {
		runs[n-1].to = r.to
		return runs
	}
	return append(runs, r)
}
