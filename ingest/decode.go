package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/onairfm/onair/ingest/mp3"
)

// pcmBufSize holds several decoded frames (4608 bytes each at 1152
// samples, 16-bit stereo).
const pcmBufSize = 64 << 10

// decode decodes every audio frame of r and checks that each one gave its
// samples: a file is an MP3 because it decodes, not because its headers
// look right. The decoder reads only the scanner's audio frames, so it
// never sees tags, junk it cannot resync after, or the Xing frame.
func decode(ctx context.Context, r io.Reader, info mp3.Info) (err error) {
	// go-mp3 is a third-party decoder fed untrusted data; a panic in it
	// must reject the file, not bring the server down.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errDecoderPanic, p)
		}
	}()
	var s mp3.Scanner
	s.Reset(r)
	dec, err := gomp3.NewDecoder(mp3.NewAudioReader(&s))
	if err != nil {
		return err
	}
	buf := make([]byte, pcmBufSize)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := dec.Read(buf)
		n += int64(m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	// go-mp3 turns a frame it cannot finish into a quiet end of stream;
	// count the output so that is caught. It always writes 16-bit stereo.
	if n < info.Samples*4 {
		return fmt.Errorf("%w: %d of %d samples", errShortDecode, n/4, info.Samples)
	}
	return nil
}
