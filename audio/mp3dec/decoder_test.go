package mp3dec

import (
	"errors"
	"math"
	"testing"
)

func TestHeaderErrors(t *testing.T) {
	good, _ := frames(t, "tone440.mp3")
	with := func(b1, b2 byte) []byte {
		f := append([]byte(nil), good[0]...)
		f[1], f[2] = b1, b2
		return f
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		dst   int
		want  error
	}{
		{"empty", nil, 2304, ErrShortFrame},
		{"no sync", []byte{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0}, 2304, ErrHeader},
		{"layer II", with(0xfd, good[0][2]), 2304, ErrHeader},
		{"reserved version", with(0xeb, good[0][2]), 2304, ErrHeader},
		{"free format", with(good[0][1], good[0][2]&0x0f), 2304, ErrFreeFormat},
		{"bad bitrate", with(good[0][1], good[0][2]|0xf0), 2304, ErrHeader},
		{"bad rate", with(good[0][1], good[0][2]|0x0c), 2304, ErrHeader},
		{"side info cut", good[0][:20], 2304, ErrShortFrame},
		{"small dst", good[0], 1000, ErrShortFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New().DecodeFrame(tc.frame, make([]float32, tc.dst))
			if !errors.Is(err, tc.want) || n != 0 {
				t.Errorf("got %d, %v; want 0, %v", n, err, tc.want)
			}
			if err != nil && err.Error()[:8] != "mp3dec: " {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// decodeFrames decodes fs with d and returns the concatenated output.
func decodeFrames(t *testing.T, d *Decoder, fs [][]byte) []float32 {
	t.Helper()
	dst := make([]float32, 2*1152)
	var out []float32
	for i, f := range fs {
		n, err := d.DecodeFrame(f, dst)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, dst[:n]...)
	}
	return out
}

// TestStartMidStream starts decoding at a frame whose reservoir the
// decoder never saw, as after a seek: that frame is silent without error,
// and from two frames on the output is exactly what decoding from the
// start gives.
func TestStartMidStream(t *testing.T) {
	fs, _ := frames(t, "tone440.mp3")
	full := decodeFrames(t, New(), fs)
	const k = 100
	d := New()
	part := decodeFrames(t, d, fs[k:])
	for i, v := range part[:2304] {
		if v != 0 {
			t.Fatalf("first frame after a cold start: sample %d is %v, want silence", i, v)
		}
	}
	from := 3 * 2304
	for i := from; i < len(part); i++ {
		if part[i] != full[k*2304+i] {
			t.Fatalf("value %d differs from a decode from the start: %v vs %v", i, part[i], full[k*2304+i])
		}
	}
	// Reset forgets everything: the same frames decode the same again.
	d.Reset()
	again := decodeFrames(t, d, fs[k:])
	for i := range again {
		if again[i] != part[i] {
			t.Fatalf("after Reset, value %d is %v, want %v", i, again[i], part[i])
		}
	}
}

// TestCorruptMainData damages the main data of frames: decoding must go on
// with full frames, report ErrCorrupt or nothing, and stay finite and in
// range.
func TestCorruptMainData(t *testing.T) {
	fs, _ := frames(t, "tone440.mp3")
	d := New()
	dst := make([]float32, 2*1152)
	corrupt := 0
	for i, f := range fs[:200] {
		f = append([]byte(nil), f...)
		if i%3 == 1 {
			for j := 40; j < len(f); j += 7 {
				f[j] ^= byte(i*31 + j)
			}
		}
		if i%10 == 5 {
			// Every part2_3_length (12 bits at 20+59k of MPEG-1 stereo
			// side information) set to 4095: more bits than the frame
			// and the reservoir hold.
			for k := 0; k < 4; k++ {
				for bit := 20 + 59*k; bit < 32+59*k; bit++ {
					f[4+bit/8] |= 0x80 >> (bit % 8)
				}
			}
		}
		n, err := d.DecodeFrame(f, dst)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("frame %d: %v", i, err)
		}
		if err != nil {
			corrupt++
		}
		if n != 2304 {
			t.Fatalf("frame %d: n = %d", i, n)
		}
		for _, v := range dst[:n] {
			if math.IsNaN(float64(v)) || v < -1 || v >= 1 {
				t.Fatalf("frame %d: sample %v", i, v)
			}
		}
	}
	if corrupt < 20 {
		t.Errorf("%d frames reported corrupt, want at least the 20 with impossible lengths", corrupt)
	}
	t.Logf("%d of 200 frames reported corrupt", corrupt)
}

// FuzzDecodeFrame feeds arbitrary frames to a decoder whose reservoir
// holds a real frame's data: it must never panic, and a decoded frame
// must have the right length and finite samples in range.
func FuzzDecodeFrame(f *testing.F) {
	for _, name := range []string{"tone440.mp3", "tone550-mono.mp3", "tone700-mpeg2.mp3", "mpeg25-8k.mp3", "tone1000-vbr.mp3"} {
		fs, _ := frames(f, name)
		for _, fr := range fs[10:13] {
			f.Add(fr)
		}
	}
	prime, _ := frames(f, "tone440.mp3")
	dst := make([]float32, 2*1152)
	f.Fuzz(func(t *testing.T, frame []byte) {
		d := New()
		if _, err := d.DecodeFrame(prime[20], dst); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			n, err := d.DecodeFrame(frame, dst)
			if err != nil && !errors.Is(err, ErrCorrupt) {
				if n != 0 {
					t.Fatalf("n = %d with %v", n, err)
				}
				return
			}
			if n != 2*1152 && n != 2*576 {
				t.Fatalf("n = %d", n)
			}
			for _, v := range dst[:n] {
				if math.IsNaN(float64(v)) || v < -1 || v >= 1 {
					t.Fatalf("sample %v", v)
				}
			}
		}
	})
}
