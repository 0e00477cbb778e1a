package audiotest

import (
	"math"
	"testing"
)

func TestDominantFindsTheTone(t *testing.T) {
	for _, f := range []float64{440, 880, 1320} {
		s := make([]float64, 48000/5)
		for i := range s {
			s[i] = 0.5 * math.Sin(2*math.Pi*f*float64(i)/48000)
		}
		got, share := Dominant(s, 48000, 440, 880, 1320)
		if got != f || share < 0.9 {
			t.Errorf("tone %v: got %v with share %.2f", f, got, share)
		}
	}
	if _, share := Dominant(make([]float64, 100), 48000, 440); share != 0 {
		t.Errorf("silence has share %v", share)
	}
}

func TestDecodeFixture(t *testing.T) {
	s, rate, err := DecodeMP3(Fixture(t, "tone880.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	if rate != 44100 || len(s) < 7*44100 {
		t.Fatalf("rate %d, %d samples", rate, len(s))
	}
	if f, share := Dominant(s[44100:88200], 44100, 440, 880, 1320); f != 880 || share < 0.9 {
		t.Fatalf("got %v (%.2f), want 880", f, share)
	}
}

func TestDecodeFromTheMiddleOfAFrame(t *testing.T) {
	data := Fixture(t, "tone880.mp3")
	// Every offset in a stretch that covers several frame boundaries.
	for off := 20000; off < 21500; off += 97 {
		s, _, err := DecodeMP3(data[off:])
		if err != nil {
			t.Fatalf("from byte %d: %v", off, err)
		}
		if f, share := Dominant(s, 44100, 440, 880); f != 880 || share < 0.9 {
			t.Fatalf("from byte %d: %v Hz (%.2f)", off, f, share)
		}
	}
}

func TestToneOfMP3(t *testing.T) {
	if f := ToneOfMP3(t, Fixture(t, "tone880.mp3"), 440, 880, 1320); f != 880 {
		t.Fatalf("tone880.mp3 heard as %v Hz", f)
	}
}
