package mp3

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"
)

const testdata = "../../testdata"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scanAll returns copies of every frame of data and the scanner that read
// them, failing the test on any error but io.EOF.
func scanAll(t testing.TB, r io.Reader) ([]Frame, *Scanner) {
	t.Helper()
	s := NewScanner(r)
	var frames []Frame
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return frames, s
		}
		if err != nil {
			t.Fatalf("Next after %d frames: %v", len(frames), err)
		}
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
	}
}

// audioOf returns the audio frames of a fixture, concatenated: an MP3
// stream with no tags and no Xing frame.
func audioOf(t testing.TB, name string) []byte {
	t.Helper()
	frames, _ := scanAll(t, bytes.NewReader(readFixture(t, name)))
	var out []byte
	for _, f := range frames {
		out = append(out, f.Data...)
	}
	return out
}

// checkFrames asserts what holds for every frame of every stream: its
// bytes are the input's bytes at its offset, its length is its FrameSize,
// and frames never overlap.
func checkFrames(t testing.TB, data []byte, frames []Frame) {
	t.Helper()
	next := int64(0)
	for i, f := range frames {
		if len(f.Data) != f.FrameSize {
			t.Fatalf("frame %d: %d bytes, FrameSize %d", i, len(f.Data), f.FrameSize)
		}
		if f.Offset < next {
			t.Fatalf("frame %d at %d overlaps the previous one ending at %d", i, f.Offset, next)
		}
		end := f.Offset + int64(len(f.Data))
		if end > int64(len(data)) || !bytes.Equal(data[f.Offset:end], f.Data) {
			t.Fatalf("frame %d: Data is not the input at offset %d", i, f.Offset)
		}
		next = end
	}
}

var fixtures = []struct {
	name       string
	frames     int64
	ffprobe    time.Duration // ffprobe -show_entries format=duration
	version    Version
	rate       int
	channels   int
	bitrate    int
	vbr        bool
	xingFrames int
}{
	{"tone440.mp3", 308, 8045714 * time.Microsecond, MPEG1, 44100, 2, 128000, false, 308},
	{"tone880.mp3", 308, 8045714 * time.Microsecond, MPEG1, 44100, 2, 128000, false, 308},
	{"tone1320.mp3", 308, 8045714 * time.Microsecond, MPEG1, 44100, 2, 128000, false, 308},
	{"tone1000-vbr.mp3", 231, 6034286 * time.Microsecond, MPEG1, 44100, 2, 84338, true, 231},
	{"tone660-48k.mp3", 251, 6024000 * time.Microsecond, MPEG1, 48000, 2, 128000, false, 251},
	{"tone700-mpeg2.mp3", 194, 5067755 * time.Microsecond, MPEG2, 22050, 2, 64000, false, 194},
	{"tone550-mono.mp3", 231, 6034286 * time.Microsecond, MPEG1, 44100, 1, 64000, false, 231},
	{"tone440-320k.mp3", 193, 5041633 * time.Microsecond, MPEG1, 44100, 2, 320000, false, 193},
	{"unicode.mp3", 116, 3030204 * time.Microsecond, MPEG1, 44100, 2, 128000, false, 116},
	{"id3v1.mp3", 116, 3030204 * time.Microsecond, MPEG1, 44100, 2, 128000, false, 116},
	{"untagged.mp3", 116, 3030204 * time.Microsecond, MPEG1, 44100, 2, 128000, false, 116},
	{"xss.mp3", 116, 3030204 * time.Microsecond, MPEG1, 44100, 2, 128000, false, 116},
}

func TestScannerFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			data := readFixture(t, fx.name)
			frames, s := scanAll(t, bytes.NewReader(data))
			checkFrames(t, data, frames)
			if int64(len(frames)) != fx.frames || s.Frames() != fx.frames {
				t.Errorf("%d frames (Frames() %d), want %d", len(frames), s.Frames(), fx.frames)
			}
			if !s.InfoFrame() {
				t.Error("InfoFrame() = false: the LAME Info/Xing frame was not seen")
			}
			if n, ok := s.XingFrames(); !ok || n != fx.xingFrames {
				t.Errorf("XingFrames() = %d, %v; want %d, true", n, ok, fx.xingFrames)
			}
			if s.Skipped() != 0 || s.Truncated() {
				t.Errorf("Skipped() = %d, Truncated() = %v on a clean file", s.Skipped(), s.Truncated())
			}
			// Frames follow each other with nothing between them.
			for i := 1; i < len(frames); i++ {
				if frames[i].Offset != frames[i-1].Offset+int64(frames[i-1].FrameSize) {
					t.Fatalf("gap before frame %d", i)
				}
			}
			var d time.Duration
			for _, f := range frames {
				d += f.Duration()
			}
			if diff := (d - fx.ffprobe).Abs(); diff > time.Millisecond {
				t.Errorf("frames last %v, ffprobe says %v", d, fx.ffprobe)
			}

			// Reading one byte at a time finds the same frames.
			small, _ := scanAll(t, iotest.OneByteReader(bytes.NewReader(data)))
			if len(small) != len(frames) {
				t.Fatalf("one byte at a time: %d frames, want %d", len(small), len(frames))
			}
			for i := range small {
				if small[i].Offset != frames[i].Offset || !bytes.Equal(small[i].Data, frames[i].Data) {
					t.Fatalf("one byte at a time: frame %d differs", i)
				}
			}
		})
	}
}

func TestProbeFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			data := readFixture(t, fx.name)
			info, err := Probe(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want := Info{
				Version: fx.version, Layer: 3, SampleRate: fx.rate, Channels: fx.channels,
				Frames: fx.frames, Bitrate: fx.bitrate, VBR: fx.vbr,
				InfoFrame: true, XingFrames: fx.xingFrames,
			}
			got := info
			spf := int64(1152)
			if fx.version == MPEG2 {
				spf = 576
			}
			if info.Samples != fx.frames*spf {
				t.Errorf("Samples %d, want %d frames of %d", info.Samples, fx.frames, spf)
			}
			got.Duration, got.AudioBytes, got.Samples = 0, 0, 0
			if got != want {
				t.Errorf("Probe\n got %+v\nwant %+v", got, want)
			}
			if diff := (info.Duration - fx.ffprobe).Abs(); diff > time.Millisecond {
				t.Errorf("Duration %v, ffprobe says %v", info.Duration, fx.ffprobe)
			}
			audio := audioOf(t, fx.name)
			if info.AudioBytes != int64(len(audio)) {
				t.Errorf("AudioBytes %d, want %d", info.AudioBytes, len(audio))
			}
		})
	}
}

// TestProbeMPEG25: an MPEG-2.5 file (8 kHz, what some phone and speech
// tools write) is one a station plays, since audio/mp3dec decodes it. The
// fixture has no Info frame, so ffprobe's 3.232 s is an estimate from the
// file size; its 44 frames of 576 samples are what ffmpeg decodes.
func TestProbeMPEG25(t *testing.T) {
	info, err := Probe(bytes.NewReader(readFixture(t, "mpeg25-8k.mp3")))
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	want := Info{
		Version: MPEG25, Layer: 3, SampleRate: 8000, Channels: 1,
		Frames: 44, Samples: 44 * 576, Duration: 3168 * time.Millisecond,
		Bitrate: 16000, AudioBytes: 44 * 144,
	}
	if info != want {
		t.Errorf("Probe\n got %+v\nwant %+v", info, want)
	}
}

func TestProbeRejects(t *testing.T) {
	tone := readFixture(t, "tone440.mp3")
	audio440 := audioOf(t, "tone440.mp3")
	audio660 := audioOf(t, "tone660-48k.mp3")
	audio700 := audioOf(t, "tone700-mpeg2.mp3")
	frames440, _ := scanAll(t, bytes.NewReader(audio440))
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa")

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNoFrames},
		{"one byte", []byte{0xFF}, ErrNoFrames},
		{"wav", readFixture(t, "not-mp3.wav"), ErrNoFrames},
		{"png", png, ErrNoFrames},
		{"text", []byte("hello, this is not an MP3 file at all\n"), ErrNoFrames},
		{"script", readFixture(t, "make-fixtures.sh"), ErrNoFrames},
		{"random", pseudoRandom(64<<10, 7), ErrNoFrames},
		{"layer ii", synthFrames([]byte{0xFF, 0xFD, 0xC0, 0x04}, 20), ErrLayer},
		{"layer i", synthFrames([]byte{0xFF, 0xFF, 0x90, 0x04}, 20), ErrLayer},
		{"free format", synthFrames([]byte{0xFF, 0xFB, 0x00, 0x64}, 1)[:4000], ErrFreeFormat},
		{"44.1k then 48k", concat(audio440, audio660), ErrMixedFormat},
		{"mpeg-1 then mpeg-2", concat(audio440[:frames440[10].Offset], audio700), ErrMixedFormat},
		{"id3 cut short", tone[:100], ErrNoAudio},
		{"first frame cut short", readFixture(t, "untagged.mp3")[:100], ErrNoAudio},
		{"only the info frame", readFixture(t, "untagged.mp3")[:417], ErrNoAudio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Probe(bytes.NewReader(tt.data))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Probe = %+v, %v; want %v", info, err, tt.want)
			}
		})
	}
}

// synthFrames makes n frames of the given header with zero payloads. For a
// free-format header it makes one 4000-byte "frame".
func synthFrames(hdr []byte, n int) []byte {
	size := 4000
	if h, err := ParseHeader(hdr); err == nil {
		size = h.FrameSize
	}
	var out []byte
	for range n {
		f := make([]byte, size)
		copy(f, hdr)
		out = append(out, f...)
	}
	return out
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// pseudoRandom returns n deterministic noisy bytes (xorshift).
func pseudoRandom(n int, seed uint64) []byte {
	out := make([]byte, n)
	x := seed | 1
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = byte(x)
	}
	return out
}

func TestScannerJunk(t *testing.T) {
	data := readFixture(t, "tone440.mp3")
	frames, _ := scanAll(t, bytes.NewReader(data))
	// 10 false syncs: a valid header whose frame is not followed by one.
	var junk []byte
	for range 10 {
		junk = append(junk, 0xFF, 0xFB, 0x90, 0x64)
		junk = append(junk, bytes.Repeat([]byte{0x55}, 96)...)
	}
	noise := pseudoRandom(3000, 1)

	tests := []struct {
		name        string
		data        []byte
		wantSkipped int64
		lost        int // frames skipped with the junk
	}{
		{"false syncs mid-file", concat(data[:frames[100].Offset], junk, data[frames[100].Offset:]), int64(len(junk)), 0},
		// The frame before junk cannot be told from junk: it is skipped.
		{"noise mid-file", concat(data[:frames[200].Offset], noise, data[frames[200].Offset:]), int64(len(noise) + frames[199].FrameSize), 1},
		{"half a frame mid-file", concat(data[:frames[50].Offset], frames[50].Data[:200], data[frames[50].Offset:]), 200, 0},
		{"noise before the first frame", concat(noise, data[frames[0].Offset-417:]), int64(len(noise)), 0},
		{"junk after the end", concat(data, []byte("trailing junk!")), int64(14 + frames[307].FrameSize), 1},
		{"junk then id3v1", concat(data, []byte("junk"), id3v1Tag()), int64(4 + frames[307].FrameSize), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s := scanAll(t, bytes.NewReader(tt.data))
			checkFrames(t, tt.data, got)
			if s.Skipped() != tt.wantSkipped || s.Truncated() {
				t.Errorf("Skipped() = %d, Truncated() = %v; want %d, false", s.Skipped(), s.Truncated(), tt.wantSkipped)
			}
			// Every frame found is one of the clean file's, in order.
			j := 0
			for i := range got {
				for j < len(frames) && !bytes.Equal(got[i].Data, frames[j].Data) {
					j++
				}
				if j == len(frames) {
					t.Fatalf("frame %d is not one of the clean file's", i)
				}
			}
			if want := len(frames) - tt.lost; len(got) != want {
				t.Errorf("%d frames, want %d", len(got), want)
			}
		})
	}
}

func TestScannerTruncated(t *testing.T) {
	data := readFixture(t, "tone440.mp3")
	frames, _ := scanAll(t, bytes.NewReader(data))
	cut := frames[150].Offset + 100
	got, s := scanAll(t, bytes.NewReader(data[:cut]))
	checkFrames(t, data, got)
	if len(got) != 150 {
		t.Errorf("%d frames, want the 150 complete ones", len(got))
	}
	if !s.Truncated() || s.Skipped() != 100 {
		t.Errorf("Truncated() = %v, Skipped() = %d; want true, 100", s.Truncated(), s.Skipped())
	}
	info, err := Probe(bytes.NewReader(data[:cut]))
	if err != nil || info.Frames != 150 || !info.Truncated {
		t.Errorf("Probe of a truncated file = %+v, %v; want 150 frames, truncated", info, err)
	}
}

// apeTag builds an APEv2 tag with one item, with or without its header.
func apeTag(withHeader bool) []byte {
	item := concat([]byte{5, 0, 0, 0, 0, 0, 0, 0}, []byte("Title\x00Hello"))
	hf := func(isHeader bool) []byte {
		b := make([]byte, 32)
		copy(b, "APETAGEX")
		binary.LittleEndian.PutUint32(b[8:], 2000)
		binary.LittleEndian.PutUint32(b[12:], uint32(len(item)+32))
		binary.LittleEndian.PutUint32(b[16:], 1)
		flags := uint32(0)
		if withHeader {
			flags |= 1 << 31
		}
		if isHeader {
			flags |= 1 << 29
		}
		binary.LittleEndian.PutUint32(b[20:], flags)
		return b
	}
	if !withHeader {
		return concat(item, hf(false))
	}
	return concat(hf(true), item, hf(false))
}

func id3v1Tag() []byte {
	b := make([]byte, 128)
	copy(b, "TAGSome title")
	return b
}

// id3v2Tag builds an ID3v2.4 tag with a payload of n bytes.
func id3v2Tag(n int, footer bool) []byte {
	flags := byte(0)
	if footer {
		flags = 0x10
	}
	h := []byte{'I', 'D', '3', 4, 0, flags, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	out := concat(h, bytes.Repeat([]byte{0xFF}, n)) // 0xFF payload: would false-sync if not skipped
	if footer {
		f := bytes.Clone(h)
		copy(f, "3DI")
		out = append(out, f...)
	}
	return out
}

func TestScannerTags(t *testing.T) {
	tone := readFixture(t, "tone440.mp3")
	audio := audioOf(t, "tone440.mp3")
	nAudio := int64(308)
	lyrics := []byte("LYRICSBEGININD0000200EAL00005Hello000025LYRICS200")

	tests := []struct {
		name        string
		data        []byte
		frames      int64
		wantSkipped int64
	}{
		{"id3v1 at end", concat(tone, id3v1Tag()), nAudio, 0},
		{"ape with header at end", concat(tone, apeTag(true)), nAudio, 0},
		{"ape with header then id3v1", concat(tone, apeTag(true), id3v1Tag()), nAudio, 0},
		{"ape footer only then id3v1", concat(tone, apeTag(false), id3v1Tag()), nAudio, int64(len(apeTag(false)) - 32)},
		{"lyrics3 then id3v1", concat(tone, lyrics, id3v1Tag()), nAudio, 0},
		{"two leading id3v2 tags", concat(id3v2Tag(500, false), tone), nAudio, 0},
		{"id3v2 with footer", concat(id3v2Tag(3000, true), audio), nAudio, 0},
		{"appended id3v2 at end", concat(tone, id3v2Tag(700, true)), nAudio, 0},
		{"big id3v2 tag", concat(id3v2Tag(200<<10, false), audio), nAudio, 0},
		{"concatenated files", concat(tone, id3v1Tag(), readFixture(t, "tone880.mp3")), 2 * nAudio, 0},
		{"concatenated untagged", concat(readFixture(t, "untagged.mp3"), readFixture(t, "untagged.mp3")), 2 * 116, 0},
		{"tag too short at end", concat(tone, []byte("TAG short")), nAudio, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s := scanAll(t, bytes.NewReader(tt.data))
			checkFrames(t, tt.data, got)
			if int64(len(got)) != tt.frames {
				t.Errorf("%d frames, want %d", len(got), tt.frames)
			}
			if s.Skipped() != tt.wantSkipped {
				t.Errorf("Skipped() = %d, want %d", s.Skipped(), tt.wantSkipped)
			}
		})
	}
}

// A stream whose first frame is not a Xing frame keeps it as audio.
func TestScannerNoInfoFrame(t *testing.T) {
	audio := audioOf(t, "tone440.mp3")
	frames, s := scanAll(t, bytes.NewReader(audio))
	if len(frames) != 308 || s.InfoFrame() {
		t.Errorf("%d frames, InfoFrame() = %v; want 308, false", len(frames), s.InfoFrame())
	}
	if _, ok := s.XingFrames(); ok {
		t.Error("XingFrames() ok without a Xing frame")
	}
}

func TestScannerVBRI(t *testing.T) {
	audio := audioOf(t, "tone440.mp3")
	first := make([]byte, 417)
	copy(first, []byte{0xFF, 0xFB, 0x90, 0x64})
	copy(first[36:], "VBRI\x00\x01\x00\x00\x00\x50\x00\x01\xf7\x9b\x00\x00\x01\x34")
	frames, s := scanAll(t, bytes.NewReader(concat(first, audio)))
	if n, ok := s.XingFrames(); len(frames) != 308 || !s.InfoFrame() || !ok || n != 308 {
		t.Errorf("%d frames, InfoFrame %v, XingFrames %d %v; want 308, true, 308 true", len(frames), s.InfoFrame(), n, ok)
	}
}

func TestScannerReadError(t *testing.T) {
	data := readFixture(t, "tone440.mp3")
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(data[:50000]), iotest.ErrReader(boom))
	s := NewScanner(r)
	n := 0
	var err error
	for err == nil {
		_, err = s.Next()
		n++
	}
	if !errors.Is(err, boom) {
		t.Fatalf("after %d frames: %v, want %v", n, err, boom)
	}
	if _, again := s.Next(); !errors.Is(again, boom) {
		t.Errorf("the error is not sticky: %v", again)
	}
	if _, err := Probe(io.MultiReader(bytes.NewReader(data[:50000]), iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("Probe: %v, want %v", err, boom)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestScannerNoProgress(t *testing.T) {
	s := NewScanner(zeroReader{})
	if _, err := s.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("Next on a reader that never reads: %v, want io.ErrNoProgress", err)
	}
}

func TestScannerReset(t *testing.T) {
	a := readFixture(t, "tone440.mp3")
	b := readFixture(t, "tone700-mpeg2.mp3")
	var s Scanner // the zero Scanner works after Reset
	for i, tc := range []struct {
		data   []byte
		frames int
		rate   int
	}{{a, 308, 44100}, {b, 194, 22050}, {a, 308, 44100}} {
		s.Reset(bytes.NewReader(tc.data))
		n := 0
		for {
			f, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.SampleRate != tc.rate {
				t.Fatalf("track %d frame %d: %d Hz, want %d", i, n, f.SampleRate, tc.rate)
			}
			n++
		}
		if n != tc.frames || !s.InfoFrame() || s.Skipped() != 0 {
			t.Errorf("track %d: %d frames, InfoFrame %v, Skipped %d; want %d, true, 0", i, n, s.InfoFrame(), s.Skipped(), tc.frames)
		}
	}
}

func TestScannerZeroAllocs(t *testing.T) {
	data := readFixture(t, "tone440.mp3")
	br := bytes.NewReader(data)
	s := NewScanner(br)
	frames := 0
	allocs := testing.AllocsPerRun(20, func() {
		br.Reset(data)
		s.Reset(br)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
			frames++
		}
	})
	if frames != 21*308 { // AllocsPerRun runs once more to warm up
		t.Fatalf("scanned %d frames, want %d", frames, 21*308)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per track of 308 frames, want 0", allocs)
	}
}

func TestAudioReader(t *testing.T) {
	data := readFixture(t, "tone1000-vbr.mp3")
	want := audioOf(t, "tone1000-vbr.mp3")
	s := NewScanner(bytes.NewReader(data))
	got, err := io.ReadAll(iotest.HalfReader(NewAudioReader(s)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AudioReader gave %d bytes, want the %d bytes of the audio frames", len(got), len(want))
	}
	if bytes.Contains(got, []byte("Xing")) || bytes.Contains(got, []byte("ID3")) {
		t.Error("AudioReader output holds the Xing frame or the tag")
	}
	if err := iotest.TestReader(NewAudioReader(NewScanner(bytes.NewReader(data))), want); err != nil {
		t.Error(err)
	}

	// Reset serves the next track with the same reader.
	a := NewAudioReader(s)
	s.Reset(bytes.NewReader(readFixture(t, "tone440.mp3")))
	a.Reset(s)
	got, err = io.ReadAll(a)
	if err != nil || !bytes.Equal(got, audioOf(t, "tone440.mp3")) {
		t.Errorf("after Reset: %d bytes, %v", len(got), err)
	}
}

func BenchmarkScanner(b *testing.B) {
	data := readFixture(b, "tone440.mp3")
	br := bytes.NewReader(data)
	var s Scanner
	frames := 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(data)
		s.Reset(br)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
			frames++
		}
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
