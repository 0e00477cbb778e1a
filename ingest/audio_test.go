package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhowden/tag"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/analysis"
)

// pcmWAV is a 16-bit PCM WAV file of samples.
func pcmWAV(samples []int16, rate, ch int) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	b.Write(le.AppendUint32(nil, uint32(36+2*len(samples))))
	b.WriteString("WAVEfmt ")
	b.Write(le.AppendUint32(nil, 16))
	b.Write(le.AppendUint16(nil, 1))
	b.Write(le.AppendUint16(nil, uint16(ch)))
	b.Write(le.AppendUint32(nil, uint32(rate)))
	b.Write(le.AppendUint32(nil, uint32(rate*ch*2)))
	b.Write(le.AppendUint16(nil, uint16(ch*2)))
	b.Write(le.AppendUint16(nil, 16))
	b.WriteString("data")
	b.Write(le.AppendUint32(nil, uint32(2*len(samples))))
	for _, x := range samples {
		b.Write(le.AppendUint16(nil, uint16(x)))
	}
	return b.Bytes()
}

// sine is secs of a mono half-scale sine.
func sine(freq float64, rate int, secs float64) []int16 {
	out := make([]int16, int(float64(rate)*secs))
	for i := range out {
		out[i] = int16(16384 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// tinyFrames is n bytes of the smallest MP3 frames: MPEG-2 layer III,
// 8 kbit/s, 24 kHz, mono, 24 bytes each, all silence. 1 MB of them is
// 17 minutes of audio.
func tinyFrames(n int) []byte {
	f := make([]byte, 24)
	copy(f, []byte{0xFF, 0xF3, 0x14, 0xC4})
	return bytes.Repeat(f, n/len(f))
}

// id3Frame is an ID3v2.3 frame.
func id3Frame(id string, body []byte) []byte {
	b := append([]byte(id), binary.BigEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, 0, 0)
	return append(b, body...)
}

// id3Tag is an ID3v2.3 tag of frames.
func id3Tag(frames ...[]byte) []byte {
	body := bytes.Join(frames, nil)
	n := len(body)
	return append([]byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}, body...)
}

// id3Bomb is an MP3 whose ID3 tag has a title and then count one-byte
// frames of one name: the tag library's cost grows with the square of
// their number.
func id3Bomb(t testing.TB, count int) []byte {
	frames := [][]byte{id3Frame("TIT2", []byte("\x00Bomb Title"))}
	for range count {
		frames = append(frames, id3Frame("PRIV", []byte{'x'}))
	}
	return append(id3Tag(frames...), audioFrames(t, "tone440.mp3")...)
}

func TestID3Bomb(t *testing.T) {
	in := &Ingester{MediaDir: t.TempDir(), noSync: true}
	tr, err := in.Ingest(context.Background(), "bomb.mp3", bytes.NewReader(id3Bomb(t, 10000)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Title != "Bomb Title" {
		t.Errorf("Title %q, want the tag's", tr.Title)
	}
	// Past maxTagFrames frames the rest of the tag is not looked at: a
	// title there is not read, the file is still accepted.
	late := append(id3Tag(bytes.Repeat(id3Frame("PRIV", []byte{'x'}), 5000), id3Frame("TIT2", []byte("\x00Late"))),
		audioFrames(t, "tone440.mp3")...)
	tr, err = in.Ingest(context.Background(), "late.mp3", bytes.NewReader(late))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Title != "late" {
		t.Errorf("Title %q, want the file name", tr.Title)
	}
}

func BenchmarkIngestID3Bomb(b *testing.B) {
	data := id3Bomb(b, 10000)
	in := &Ingester{MediaDir: b.TempDir(), noSync: true}
	for b.Loop() {
		tr, err := in.Ingest(context.Background(), "bomb.mp3", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		_ = in.Remove(tr)
	}
}

func BenchmarkReadTagsID3Bomb(b *testing.B) {
	p := filepath.Join(b.TempDir(), "bomb.mp3")
	if err := os.WriteFile(p, id3Bomb(b, 10000), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		if tg := readTags(f, onair.FormatMP3, nil); tg.title != "Bomb Title" {
			b.Fatal(tg.title)
		}
	}
}

func BenchmarkIngestTinyFrames(b *testing.B) {
	data := tinyFrames(1 << 20)
	in := &Ingester{MediaDir: b.TempDir(), noSync: true}
	for b.Loop() {
		if _, err := in.Ingest(context.Background(), "tiny.mp3", bytes.NewReader(data)); onair.ErrorCode(err) != onair.EUnprocessable {
			b.Fatal(err)
		}
	}
}

func TestCoverArt(t *testing.T) {
	dir := t.TempDir()
	in := &Ingester{MediaDir: dir}
	for _, name := range []string{"mono48-art.mp3", "flac16-659.flac"} {
		tr, err := in.Ingest(context.Background(), name, bytes.NewReader(fixture(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		if tr.ArtMIME != "image/png" {
			t.Errorf("%s: ArtMIME %q, want image/png", name, tr.ArtMIME)
		}
		art, err := os.ReadFile(filepath.Join(dir, tr.Path+".art"))
		if err != nil || !bytes.HasPrefix(art, []byte("\x89PNG")) {
			t.Errorf("%s: art file: %v", name, err)
		}
		if err := in.Remove(tr); err != nil {
			t.Fatal(err)
		}
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("Remove left %v", got)
	}
}

func TestArtOf(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n....")
	for _, tt := range []struct {
		name     string
		mime     string
		data     []byte
		wantMIME string
	}{
		{"png", "image/png", png, "image/png"},
		{"png undeclared", "", png, "image/png"},
		{"jpeg as jpg", "image/jpg", []byte("\xFF\xD8\xFF\xE0...."), "image/jpeg"},
		{"gif", "image/gif", []byte("GIF89a...."), "image/gif"},
		{"webp", "image/webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"png said jpeg", "image/jpeg", png, ""},
		{"html", "text/html", []byte("<script>"), ""},
		{"svg", "image/svg+xml", []byte("<svg onload=alert(1)>"), ""},
		{"too big", "image/png", append(bytes.Clone(png), make([]byte, MaxArtBytes)...), ""},
		{"empty", "image/png", nil, ""},
	} {
		_, mime := artOf(&tagPicture{MIMEType: tt.mime, Data: tt.data})
		if mime != tt.wantMIME {
			t.Errorf("%s: %q, want %q", tt.name, mime, tt.wantMIME)
		}
	}
}

// countdownCtx is a context whose Err turns to Canceled after n calls:
// it cancels an upload at a chosen step, without timing.
type countdownCtx struct {
	context.Context
	n atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestIngestCancelledWhileDecoding(t *testing.T) {
	for _, name := range []string{"tone440.mp3", "wav16-440.wav", "flac16-659.flac"} {
		dir := t.TempDir()
		ctx := &countdownCtx{Context: context.Background()}
		ctx.n.Store(12) // past the upload's few chunks, into the decode loop
		_, err := (&Ingester{MediaDir: dir}).Ingest(ctx, name, bytes.NewReader(fixture(t, name)))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: error %v, want context.Canceled", name, err)
		}
		if got := entries(t, dir); len(got) != 0 {
			t.Errorf("%s: MediaDir not empty: %v", name, got)
		}
	}
}

func TestAnalyze(t *testing.T) {
	for _, tt := range []struct{ file, format string }{
		{"tone440.mp3", onair.FormatMP3},
		{"wav24-523-mono.wav", onair.FormatWAV},
		{"flac16-659.flac", onair.FormatFLAC},
	} {
		res, err := Analyze(context.Background(), filepath.Join(testdata, tt.file), tt.format)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		// Half-scale sines, analysed as played on two channels.
		if res.Loudness < -12 || res.Loudness > -3 || res.Peak > 0 || res.CueOut < 900*time.Millisecond {
			t.Errorf("%s: %+v", tt.file, res)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, filepath.Join(testdata, "tone440.mp3"), onair.FormatMP3); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	p := filepath.Join(t.TempDir(), "quiet.wav")
	if err := os.WriteFile(p, pcmWAV(make([]int16, 8000), 8000, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Analyze(context.Background(), p, onair.FormatWAV); !errors.Is(err, analysis.ErrSilent) {
		t.Errorf("silence: %v, want ErrSilent", err)
	}
}

type tagPicture = tag.Picture
