package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/onairfm/onair/relay/icy"
)

// conn is where a listener's bytes go: a hijacked TCP connection, or an
// http.ResponseWriter when the server cannot hand its connection over.
type conn interface {
	io.Writer
	SetWriteDeadline(t time.Time) error
}

// listener sends a station's stream to one HTTP client. It holds no audio
// of its own: each wake-up it collects the chunks published since its last
// write and sends them in one vectored write, with ICY metadata blocks
// interleaved by its framer.
type listener struct {
	conn   conn
	ring   *ring
	framer *icy.Framer // nil without Icy-MetaData
	next   uint64
	maxLag time.Duration // also bounds one write

	chunks []*chunk // reused between writes
	bufs   [][]byte // reused between writes
	sent   int64    // audio and metadata bytes written
	begun  bool     // the first chunk went out
}

// errTooSlow ends a listener that fell too far behind the station clock.
var errTooSlow = errors.New("relay: listener too slow")

// run writes the stream until ctx ends, the client goes away or falls too
// far behind. It returns why it stopped.
func (l *listener) run(ctx context.Context) error {
	for {
		var wait <-chan struct{}
		var ok bool
		l.chunks, l.next, wait, ok = l.ring.read(l.next, l.chunks[:0])
		if !ok {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errTooSlow
		}
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := l.write(); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return errTooSlow
			}
			return err
		}
		if l.maxLag > 0 && l.ring.lag(l.next) > l.maxLag {
			return errTooSlow
		}
	}
}

// write sends the collected chunks in one go.
func (l *listener) write() error {
	bufs := l.bufs[:0]
	if !l.begun && len(l.chunks) > 0 {
		l.begun = true
		if c := l.chunks[0]; len(c.head) > 0 && !c.headInData {
			bufs = append(bufs, c.head)
		}
	}
	for _, c := range l.chunks {
		bufs = appendChunk(bufs, c, l.framer)
	}
	if l.maxLag > 0 {
		if err := l.conn.SetWriteDeadline(time.Now().Add(l.maxLag)); err != nil {
			return fmt.Errorf("relay: set write deadline: %w", err)
		}
	}
	nb := net.Buffers(bufs)
	n, err := nb.WriteTo(l.conn)
	l.sent += n
	// Drop the references so old chunks can be collected while this
	// listener waits.
	clear(bufs)
	clear(l.chunks)
	l.bufs = bufs[:0]
	if err != nil {
		return fmt.Errorf("relay: write to listener: %w", err)
	}
	return nil
}

// appendChunk appends c's audio to bufs, split by title and framed for ICY
// when framer is not nil.
func appendChunk(bufs [][]byte, c *chunk, framer *icy.Framer) [][]byte {
	if framer == nil {
		return append(bufs, c.data)
	}
	for i, m := range c.marks {
		end := len(c.data)
		if i+1 < len(c.marks) {
			end = c.marks[i+1].off
		}
		bufs = framer.Append(bufs, c.data[m.off:end], m.block)
	}
	return bufs
}
