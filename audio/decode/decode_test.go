package decode

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
)

const testdata = "../../testdata"

func path(name string) string { return filepath.Join(testdata, name) }

// readAll decodes s to its end in 20 ms reads, as the engine does.
func readAll(t testing.TB, s Stream) []float32 {
	t.Helper()
	buf := make([]float32, s.SampleRate()/50*s.Channels())
	var out []float32
	for range 1 << 20 {
		n, err := s.Read(buf)
		if n%s.Channels() != 0 {
			t.Fatalf("Read returned %d samples: not whole frames", n)
		}
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Read after %d samples: %v", len(out), err)
		}
	}
	t.Fatal("Read never ended")
	return nil
}

func open(t testing.TB, name, format string) Stream {
	t.Helper()
	s, err := Open(path(name), format)
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// goertzel is the power of freq in the first channel of pcm.
func goertzel(pcm []float32, ch, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for i := 0; i < len(pcm); i += ch {
		s0 := float64(pcm[i]) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

func rms(pcm []float32) float64 {
	var sum float64
	for _, x := range pcm {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

var tones = []struct {
	file, format string
	rate, ch     int
	freq         float64
	seconds      float64 // ffprobe's duration, ±30 ms
}{
	{"tone440.mp3", onair.FormatMP3, 44100, 2, 440, 8.046},
	{"tone660-48k.mp3", onair.FormatMP3, 48000, 2, 660, 6.024},
	{"tone550-mono.mp3", onair.FormatMP3, 44100, 2, 550, 6.034},
	{"tone1000-vbr.mp3", onair.FormatMP3, 44100, 2, 1000, 6.034},
	{"tone700-mpeg2.mp3", onair.FormatMP3, 22050, 2, 700, 5.068},
	{"mpeg25-8k.mp3", onair.FormatMP3, 8000, 2, 300, 3.168}, // no Info frame: ffprobe guesses 3.232; ffmpeg decodes 3.168
	{"mono48-art.mp3", onair.FormatMP3, 48000, 2, 880, 1.032},
	{"wav16-440.wav", onair.FormatWAV, 44100, 2, 440, 1},
	{"wav24-523-mono.wav", onair.FormatWAV, 48000, 1, 523, 1},
	{"wavext24-587.wav", onair.FormatWAV, 22050, 2, 587, 1},
	{"flac16-659.flac", onair.FormatFLAC, 44100, 2, 659, 1},
	{"flac24-784-mono.flac", onair.FormatFLAC, 48000, 1, 784, 1},
}

func TestDecodesTones(t *testing.T) {
	for _, tt := range tones {
		t.Run(tt.file, func(t *testing.T) {
			s := open(t, tt.file, tt.format)
			if s.SampleRate() != tt.rate || s.Channels() != tt.ch {
				t.Fatalf("%d Hz %d channels, want %d Hz %d", s.SampleRate(), s.Channels(), tt.rate, tt.ch)
			}
			pcm := readAll(t, s)
			secs := float64(len(pcm)/tt.ch) / float64(tt.rate)
			if math.Abs(secs-tt.seconds) > 0.03 {
				t.Errorf("decoded %.3f s, want %.3f s", secs, tt.seconds)
			}
			// The middle, away from encoder delay and fades.
			mid := pcm[len(pcm)/4/tt.ch*tt.ch : len(pcm)*3/4/tt.ch*tt.ch]
			if r := rms(mid); math.Abs(r-0.5/math.Sqrt2) > 0.04 {
				t.Errorf("RMS %.3f, want a 0.5 sine's %.3f", r, 0.5/math.Sqrt2)
			}
			on := goertzel(mid, tt.ch, tt.rate, tt.freq)
			off := goertzel(mid, tt.ch, tt.rate, tt.freq*1.31)
			if on < 1000*off {
				t.Errorf("%.0f Hz is not the tone: power %.3g, %.3g next to it", tt.freq, on, off)
			}
			if tt.ch == 2 {
				var d float64
				for i := 0; i+1 < len(mid); i += 2 {
					d = max(d, math.Abs(float64(mid[i]-mid[i+1])))
				}
				if d > 0.01 {
					t.Errorf("channels differ by %.3f; the fixtures are the same on both", d)
				}
			}
			if l, ok := s.(interface{ Length() int64 }); !ok {
				t.Error("no Length method")
			} else if n := l.Length(); n >= 0 && n != int64(len(pcm)/tt.ch) {
				t.Errorf("Length %d, decoded %d frames", n, len(pcm)/tt.ch)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, tt := range tones {
		b, err := os.ReadFile(path(tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := Detect(b[:min(len(b), 64<<10)]); !ok || f != tt.format {
			t.Errorf("%s: Detect = %q, %v; want %q", tt.file, f, ok, tt.format)
		}
	}
	flac, _ := os.ReadFile(path("flac16-659.flac"))
	id3 := append([]byte("ID3\x03\x00\x00\x00\x00\x00\x05hello"), flac[:100]...)
	bigID3 := []byte("ID3\x03\x00\x00\x00\x10\x00\x00")
	for _, tt := range []struct {
		name, head, want string
	}{
		{"empty", "", ""},
		{"text", "Dear listener,\nthis is plain text, not audio.\n", ""},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", ""},
		{"riff avi", "RIFF\x00\x00\x00\x00AVI LIST", ""},
		{"flac after id3", string(id3), onair.FormatFLAC},
		{"id3 past the head", string(bigID3), onair.FormatMP3},
	} {
		f, ok := Detect([]byte(tt.head))
		if f != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: Detect = %q, %v; want %q", tt.name, f, ok, tt.want)
		}
	}
}

func TestSeek(t *testing.T) {
	for _, tt := range tones {
		t.Run(tt.file, func(t *testing.T) {
			ref := readAll(t, open(t, tt.file, tt.format))
			frames := int64(len(ref) / tt.ch)
			s := open(t, tt.file, tt.format)
			buf := make([]float32, 2048*tt.ch)
			for _, at := range []int64{frames / 2, 0, 1, 1151, 1152, 5000, frames / 3, frames - 3000, frames * 9 / 10, 17} {
				if at < 0 || at >= frames {
					continue
				}
				if err := s.SeekFrame(at); err != nil {
					t.Fatalf("Seek(%d): %v", at, err)
				}
				n, err := io.ReadFull(reader{s}, f32bytes(buf))
				_ = n
				if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
					t.Fatalf("Read after Seek(%d): %v", at, err)
				}
				want := ref[at*int64(tt.ch):]
				got := buf[:min(len(buf), len(want))]
				var d float64
				for i := range got {
					d = max(d, math.Abs(float64(got[i]-want[i])))
				}
				// MP3 restarts from a primed decoder: the same
				// samples up to float rounding.
				if d > 1e-4 {
					t.Errorf("Seek(%d): differs from decoding from the start by %.5f", at, d)
				}
			}
			// Past the end: EOF, and seeking back still works.
			if err := s.SeekFrame(frames + 100); err != nil {
				t.Fatalf("Seek past the end: %v", err)
			}
			if n, err := s.Read(buf); n != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("Read past the end: %d, %v; want 0, EOF", n, err)
			}
			if err := s.SeekFrame(-1); !errors.Is(err, ErrSeek) {
				t.Errorf("Seek(-1): %v", err)
			}
			if err := s.SeekFrame(0); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, s); len(got) != len(ref) {
				t.Errorf("after seeking back: %d samples, want %d", len(got), len(ref))
			}
		})
	}
}

// reader reads a Stream's float samples as bytes, for io.ReadFull.
type reader struct{ s Stream }

func (r reader) Read(p []byte) (int, error) {
	n, err := r.s.Read(bytesF32(p))
	return n * 4, err
}

func f32bytes(f []float32) []byte {
	return unsafeBytes(f)
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(path(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wav := read("wav16-440.wav")
	flac := read("flac16-659.flac")
	tone := read("tone440.mp3")
	garbage := audiotest.GarbageMP3Frames()
	tests := []struct {
		name, file, format string
		want               error
		says               string // the error text holds this
	}{
		{"float wav", path("wav-float.wav"), onair.FormatWAV, ErrUnsupported, "32-bit float"},
		{"8-bit wav", path("wav-8bit.wav"), onair.FormatWAV, ErrUnsupported, "8-bit PCM"},
		{"adpcm wav", path("wav-adpcm.wav"), onair.FormatWAV, ErrUnsupported, "IMA ADPCM"},
		{"3-channel wav", path("wav-3ch.wav"), onair.FormatWAV, ErrUnsupported, "3 channels"},
		{"3-channel flac", path("flac-3ch.flac"), onair.FormatFLAC, ErrUnsupported, "3 channels"},
		{"cut wav", write("cut.wav", wav[:len(wav)/2]), onair.FormatWAV, ErrCorrupt, "declares"},
		{"wav header only", write("hdr.wav", wav[:30]), onair.FormatWAV, ErrCorrupt, ""},
		{"cut flac", write("cut.flac", flac[:len(flac)/2]), onair.FormatFLAC, ErrCorrupt, ""},
		{"flac header only", write("hdr.flac", flac[:20]), onair.FormatFLAC, ErrCorrupt, ""},
		{"text as mp3", write("t.mp3", []byte(strings.Repeat("not audio at all ", 100))), onair.FormatMP3, ErrNoAudio, ""},
		{"text as wav", write("t.wav", []byte("hello")), onair.FormatWAV, ErrCorrupt, ""},
		{"mp3 changes rate", write("mix.mp3", append(bytes.Clone(tone), read("tone660-48k.mp3")...)), onair.FormatMP3, ErrFormatChange, "48000 Hz"},
		{"noise frames", write("noise.mp3", garbage), onair.FormatMP3, ErrCorrupt, ""},
		{"unknown format", path("tone440.mp3"), "ogg", ErrUnknownFormat, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.file, tt.format)
			if err == nil {
				buf := make([]float32, 4096)
				for range 10000 {
					if _, err = s.Read(buf); err != nil {
						break
					}
				}
				_ = s.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

// TestPlainPCM24 reads 24-bit PCM with the plain (not extensible) header
// that other tools than ffmpeg write.
func TestPlainPCM24(t *testing.T) {
	ext, err := os.ReadFile(path("wavext24-587.wav"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := ParseWAV(bytes.NewReader(ext))
	if err != nil {
		t.Fatal(err)
	}
	data := ext[info.DataOffset : info.DataOffset+info.DataBytes]
	var b bytes.Buffer
	b.WriteString("RIFF")
	b.Write(le.AppendUint32(nil, uint32(4+8+16+8+len(data))))
	b.WriteString("WAVEfmt ")
	b.Write(le.AppendUint32(nil, 16))
	b.Write(le.AppendUint16(nil, 1))
	b.Write(le.AppendUint16(nil, 2))
	b.Write(le.AppendUint32(nil, 22050))
	b.Write(le.AppendUint32(nil, 22050*6))
	b.Write(le.AppendUint16(nil, 6))
	b.Write(le.AppendUint16(nil, 24))
	b.WriteString("data")
	b.Write(le.AppendUint32(nil, uint32(len(data))))
	b.Write(data)
	p := filepath.Join(t.TempDir(), "plain.wav")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	plain, err := Open(p, onair.FormatWAV)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	got := readAll(t, plain)
	want := readAll(t, open(t, "wavext24-587.wav", onair.FormatWAV))
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// TestReadAllocs: the engine reads 20 ms at a time for every live station.
// The WAV path allocates nothing; the MP3 and FLAC paths allocate only
// inside their third-party decoders (per decoded frame, not per Read),
// which is logged.
func TestReadAllocs(t *testing.T) {
	for _, tt := range []struct {
		file, format string
		max          float64
	}{
		{"wav16-440.wav", onair.FormatWAV, 0},
		{"flac16-659.flac", onair.FormatFLAC, -1},
		{"tone440.mp3", onair.FormatMP3, -1},
	} {
		s := open(t, tt.file, tt.format)
		buf := make([]float32, s.SampleRate()/50*s.Channels())
		_, _ = s.Read(buf) // warm up
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := s.Read(buf); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.1f allocations per 20 ms Read", tt.file, allocs)
		if tt.max >= 0 && allocs > tt.max {
			t.Errorf("%s: %.1f allocations per Read, want at most %.0f", tt.file, allocs, tt.max)
		}
	}
}
