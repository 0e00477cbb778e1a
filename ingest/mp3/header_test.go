package mp3

import (
	"errors"
	"testing"
	"time"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want Header
	}{
		{"mpeg1 l3 128k 44.1 joint", []byte{0xFF, 0xFB, 0x90, 0x64},
			Header{MPEG1, 3, 128000, 44100, 2, JointStereo, false, false, 417, 1152}},
		{"mpeg1 l3 128k 44.1 padded", []byte{0xFF, 0xFB, 0x92, 0x64},
			Header{MPEG1, 3, 128000, 44100, 2, JointStereo, true, false, 418, 1152}},
		{"mpeg1 l3 crc", []byte{0xFF, 0xFA, 0x90, 0x04},
			Header{MPEG1, 3, 128000, 44100, 2, Stereo, false, true, 417, 1152}},
		{"mpeg1 l3 128k 48", []byte{0xFF, 0xFB, 0x94, 0x64},
			Header{MPEG1, 3, 128000, 48000, 2, JointStereo, false, false, 384, 1152}},
		{"mpeg1 l3 128k 32", []byte{0xFF, 0xFB, 0x98, 0x64},
			Header{MPEG1, 3, 128000, 32000, 2, JointStereo, false, false, 576, 1152}},
		{"mpeg1 l3 320k 44.1", []byte{0xFF, 0xFB, 0xE0, 0x64},
			Header{MPEG1, 3, 320000, 44100, 2, JointStereo, false, false, 1044, 1152}},
		{"mpeg1 l3 320k 32 padded (largest l3)", []byte{0xFF, 0xFB, 0xEA, 0x64},
			Header{MPEG1, 3, 320000, 32000, 2, JointStereo, true, false, 1441, 1152}},
		{"mpeg1 l3 32k 48 (smallest mpeg1 l3)", []byte{0xFF, 0xFB, 0x14, 0x64},
			Header{MPEG1, 3, 32000, 48000, 2, JointStereo, false, false, 96, 1152}},
		{"mpeg1 l3 64k mono", []byte{0xFF, 0xFB, 0x50, 0xC4},
			Header{MPEG1, 3, 64000, 44100, 1, Mono, false, false, 208, 1152}},
		{"mpeg1 l3 dual channel", []byte{0xFF, 0xFB, 0x90, 0x80},
			Header{MPEG1, 3, 128000, 44100, 2, DualChannel, false, false, 417, 1152}},
		{"mpeg2 l3 64k 22.05", []byte{0xFF, 0xF3, 0x80, 0x64},
			Header{MPEG2, 3, 64000, 22050, 2, JointStereo, false, false, 208, 576}},
		{"mpeg2 l3 160k 16", []byte{0xFF, 0xF3, 0xE8, 0x64},
			Header{MPEG2, 3, 160000, 16000, 2, JointStereo, false, false, 720, 576}},
		{"mpeg2 l3 8k 24 (smallest)", []byte{0xFF, 0xF3, 0x14, 0xC4},
			Header{MPEG2, 3, 8000, 24000, 1, Mono, false, false, 24, 576}},
		{"mpeg2.5 l3 16k 8", []byte{0xFF, 0xE3, 0x28, 0xC4},
			Header{MPEG25, 3, 16000, 8000, 1, Mono, false, false, 144, 576}},
		{"mpeg2.5 l3 32k 11.025", []byte{0xFF, 0xE3, 0x40, 0x64},
			Header{MPEG25, 3, 32000, 11025, 2, JointStereo, false, false, 208, 576}},
		{"mpeg1 l2 256k 44.1", []byte{0xFF, 0xFD, 0xC0, 0x04},
			Header{MPEG1, 2, 256000, 44100, 2, Stereo, false, false, 835, 1152}},
		{"mpeg1 l2 384k 32 padded", []byte{0xFF, 0xFD, 0xEA, 0x04},
			Header{MPEG1, 2, 384000, 32000, 2, Stereo, true, false, 1729, 1152}},
		{"mpeg2 l2 160k 16", []byte{0xFF, 0xF5, 0xE8, 0x04},
			Header{MPEG2, 2, 160000, 16000, 2, Stereo, false, false, 1440, 1152}},
		{"mpeg2.5 l2 160k 8 padded (largest frame)", []byte{0xFF, 0xE5, 0xEA, 0x04},
			Header{MPEG25, 2, 160000, 8000, 2, Stereo, true, false, 2881, 1152}},
		{"mpeg1 l1 288k 44.1", []byte{0xFF, 0xFF, 0x90, 0x04},
			Header{MPEG1, 1, 288000, 44100, 2, Stereo, false, false, 312, 384}},
		{"mpeg1 l1 288k 44.1 padded", []byte{0xFF, 0xFF, 0x92, 0x04},
			Header{MPEG1, 1, 288000, 44100, 2, Stereo, true, false, 316, 384}},
		{"mpeg2 l1 256k 22.05", []byte{0xFF, 0xF7, 0xE0, 0xC4},
			Header{MPEG2, 1, 256000, 22050, 1, Mono, false, false, 556, 384}},
		{"extra bytes ignored", []byte{0xFF, 0xFB, 0x90, 0x64, 0x00, 0xFF},
			Header{MPEG1, 3, 128000, 44100, 2, JointStereo, false, false, 417, 1152}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.b)
			if err != nil {
				t.Fatalf("ParseHeader(% x): %v", tt.b, err)
			}
			if got != tt.want {
				t.Errorf("ParseHeader(% x)\n got %+v\nwant %+v", tt.b, got, tt.want)
			}
		})
	}
}

func TestParseHeaderInvalid(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrInvalidHeader},
		{"short", []byte{0xFF, 0xFB, 0x90}, ErrInvalidHeader},
		{"zeros", []byte{0, 0, 0, 0}, ErrInvalidHeader},
		{"ID3", []byte("ID3\x03"), ErrInvalidHeader},
		{"11 bits of sync missing one", []byte{0xFF, 0xDB, 0x90, 0x64}, ErrInvalidHeader},
		{"reserved version", []byte{0xFF, 0xEB, 0x90, 0x64}, ErrInvalidHeader},
		{"reserved layer", []byte{0xFF, 0xF9, 0x90, 0x64}, ErrInvalidHeader},
		{"bad bitrate index 15", []byte{0xFF, 0xFB, 0xF0, 0x64}, ErrInvalidHeader},
		{"reserved sample rate", []byte{0xFF, 0xFB, 0x9C, 0x64}, ErrInvalidHeader},
		{"reserved emphasis", []byte{0xFF, 0xFB, 0x90, 0x66}, ErrInvalidHeader},
		{"free format", []byte{0xFF, 0xFB, 0x00, 0x64}, ErrFreeFormat},
		{"free format mpeg2", []byte{0xFF, 0xF3, 0x00, 0x64}, ErrFreeFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHeader(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseHeader(% x) = %+v, %v; want %v", tt.b, h, err, tt.want)
			}
			if h != (Header{}) {
				t.Errorf("ParseHeader(% x) returned a header with its error: %+v", tt.b, h)
			}
		})
	}
}

func TestHeaderDuration(t *testing.T) {
	tests := []struct {
		samples, rate int
		want          time.Duration
	}{
		{1152, 44100, 26122448 * time.Nanosecond},
		{1152, 48000, 24 * time.Millisecond},
		{1152, 32000, 36 * time.Millisecond},
		{576, 22050, 26122448 * time.Nanosecond},
		{576, 24000, 24 * time.Millisecond},
		{576, 8000, 72 * time.Millisecond},
		{384, 48000, 8 * time.Millisecond},
		{1152, 0, 0},
	}
	for _, tt := range tests {
		h := Header{Samples: tt.samples, SampleRate: tt.rate}
		if got := h.Duration(); got != tt.want {
			t.Errorf("Header{Samples: %d, SampleRate: %d}.Duration() = %v, want %v", tt.samples, tt.rate, got, tt.want)
		}
	}
	// The fixture's 308 frames at 1152/44100 are ffprobe's 8.045714 s.
	h, err := ParseHeader([]byte{0xFF, 0xFB, 0x90, 0x64})
	if err != nil {
		t.Fatal(err)
	}
	if got := 308 * h.Duration(); got.Round(time.Millisecond) != 8046*time.Millisecond {
		t.Errorf("308 frames last %v, want 8.046s", got)
	}
}

func TestStrings(t *testing.T) {
	for v, want := range map[Version]string{MPEG1: "MPEG-1", MPEG2: "MPEG-2", MPEG25: "MPEG-2.5", 0: "Version(0)"} {
		if got := v.String(); got != want {
			t.Errorf("Version %d String() = %q, want %q", v, got, want)
		}
	}
	for m, want := range map[ChannelMode]string{Stereo: "stereo", JointStereo: "joint stereo", DualChannel: "dual channel", Mono: "mono", 9: "ChannelMode(9)"} {
		if got := m.String(); got != want {
			t.Errorf("ChannelMode %d String() = %q, want %q", m, got, want)
		}
	}
}
