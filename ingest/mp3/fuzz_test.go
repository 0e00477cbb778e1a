package mp3

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// addFixtureSeeds adds the start and the end of every fixture: the fuzzer
// mutates small inputs much faster, and the interesting parts (tags, the
// Xing frame, the first frames, the last frames and ID3v1) are there.
func addFixtureSeeds(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(testdata, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 4096)])
		f.Add(b[max(0, len(b)-1500):])
	}
	f.Add([]byte{})
	f.Add(synthFrames([]byte{0xFF, 0xFD, 0xC0, 0x04}, 3))
	f.Add(concat(id3v2Tag(20, true), synthFrames([]byte{0xFF, 0xF3, 0x14, 0xC4}, 5), apeTag(false), id3v1Tag()))
}

func FuzzScanner(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, s := scanBounded(t, bytes.NewReader(data), len(data))
		checkFrames(t, data, frames)
		var audio int64
		for i, fr := range frames {
			if fr.Data[0] != 0xFF {
				t.Fatalf("frame %d does not start with a sync byte", i)
			}
			audio += int64(len(fr.Data))
		}
		if s.Skipped() < 0 || audio+s.Skipped() > int64(len(data)) {
			t.Fatalf("%d audio bytes and %d skipped in %d bytes of input", audio, s.Skipped(), len(data))
		}

		// How the reader splits the input changes nothing.
		small, _ := scanBounded(t, iotest.OneByteReader(bytes.NewReader(data)), len(data))
		if len(small) != len(frames) {
			t.Fatalf("one byte at a time: %d frames, want %d", len(small), len(frames))
		}
		for i := range small {
			if small[i].Offset != frames[i].Offset || !bytes.Equal(small[i].Data, frames[i].Data) {
				t.Fatalf("one byte at a time: frame %d differs", i)
			}
		}

		info, err := Probe(bytes.NewReader(data))
		if err == nil && (info.Frames == 0 || info.Frames > int64(len(frames)) || info.Duration <= 0) {
			t.Fatalf("Probe accepted %+v from %d frames", info, len(frames))
		}
	})
}

// scanBounded reads every frame, failing if the scanner returns more frames
// than the input can hold: it must always make progress and end.
func scanBounded(t *testing.T, r io.Reader, size int) ([]Frame, *Scanner) {
	t.Helper()
	s := NewScanner(r)
	var frames []Frame
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return frames, s
		}
		if err != nil {
			t.Fatalf("Next on an in-memory reader: %v", err)
		}
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, f)
		if len(frames) > size/4+1 {
			t.Fatalf("%d frames from %d bytes: the scanner does not advance", len(frames), size)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, h := range [][]byte{
		{0xFF, 0xFB, 0x90, 0x64}, {0xFF, 0xF3, 0x80, 0x64}, {0xFF, 0xE3, 0x28, 0xC4},
		{0xFF, 0xFD, 0xC0, 0x04}, {0xFF, 0xFF, 0x90, 0x04}, {0xFF, 0xFB, 0x00, 0x64},
		{0xFF, 0xE5, 0xEA, 0x04}, {0, 0, 0, 0}, {0xFF},
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidHeader) && !errors.Is(err, ErrFreeFormat) {
				t.Fatalf("ParseHeader(% x): unexpected error %v", b, err)
			}
			if h != (Header{}) {
				t.Fatalf("ParseHeader(% x) returned %+v with an error", b, h)
			}
			return
		}
		switch {
		case h.Version < MPEG1 || h.Version > MPEG25,
			h.Layer < 1 || h.Layer > 3,
			h.Channels != 1 && h.Channels != 2,
			h.Bitrate < 8000 || h.Bitrate > 448000,
			h.SampleRate < 8000 || h.SampleRate > 48000,
			h.Samples != 384 && h.Samples != 576 && h.Samples != 1152,
			h.FrameSize < 24 || h.FrameSize > 2881,
			h.Duration() <= 0:
			t.Fatalf("ParseHeader(% x) = %+v: out of range", b, h)
		}
		// The frame holds as many bytes as its bitrate says, to a slot.
		want := h.Bitrate * h.Samples / 8 / h.SampleRate
		if d := h.FrameSize - want; d < -4 || d > 4 {
			t.Fatalf("ParseHeader(% x): FrameSize %d, bitrate says %d", b, h.FrameSize, want)
		}
	})
}
