package live

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/onairfm/onair/internal/audiotest"
)

// FuzzDecode feeds anything to the decoders: they must end with an
// error or io.EOF, never panic, and never return more PCM than a frame or
// packet holds.
func FuzzDecode(f *testing.F) {
	mp3 := audiotest.Fixture(f, "tone440.mp3")
	f.Add(true, mp3[:8192])
	f.Add(false, hugeTags()[:4096])
	f.Add(false, oggPage(1, 0, oggBOS, 0, opusHead(2)))
	f.Add(false, []byte("OggS\x00\x02"))
	f.Fuzz(func(t *testing.T, isMP3 bool, data []byte) {
		ct := "audio/ogg"
		if isMP3 {
			ct = "audio/mpeg"
		}
		d, err := newDecoder(ct, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for range 10000 {
			pcm, err := d.decode()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, ErrGarbage) || errors.Is(err, ErrUnsupported) ||
					errors.Is(err, ErrDecode) || errors.Is(err, ErrFormatChange) || errors.Is(err, ErrTooLarge) ||
					errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				t.Logf("other error: %v", err)
				return
			}
			if len(pcm) > 5760*2 {
				t.Fatalf("%d samples from one step", len(pcm))
			}
		}
	})
}
