package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onairfm/onair/relay/icy"
)

// stallTimeout ends a listener that received nothing for this long after
// its first audio: the server stopped sending without closing.
const stallTimeout = 15 * time.Second

// httpListener is one media-player-like HTTP listener: a plain TCP
// connection sending an HTTP/1.0 GET with Icy-MetaData: 1, as players do,
// reading the stream through an ICY parser. It counts audio bytes only.
type httpListener struct {
	addr, path string
	maxConnect time.Duration

	audio  atomic.Int64 // audio bytes, metadata stripped
	blocks atomic.Int64 // ICY metadata blocks
	titles atomic.Int64 // full blocks (a title)
	ready  chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	start    time.Time
	header   time.Time // response head read
	first    time.Time // first audio byte
	ended    time.Time // connection lost before the run ended
	bitrate  int       // icy-br, kbit/s
	metaint  int
	failure  string // why it never got in: dial, status, header, timeout
	err      error
	gotFirst bool
	// dry is the longest a player would have waited for audio: one that
	// starts playing at its first byte, at icy-br, with what the server
	// burst. Zero when it never ran dry.
	dry time.Duration
}

func newHTTPListener(addr, path string, maxConnect time.Duration) *httpListener {
	return &httpListener{addr: addr, path: path, maxConnect: maxConnect, ready: make(chan struct{}), done: make(chan struct{})}
}

// run connects and reads until ctx ends or the connection does. ready is
// closed once the listener got its first audio or failed to.
func (h *httpListener) run(ctx context.Context) {
	defer close(h.done)
	readyOnce := sync.OnceFunc(func() { close(h.ready) })
	defer readyOnce()

	start := time.Now()
	h.mu.Lock()
	h.start = start
	h.mu.Unlock()
	deadline := start.Add(h.maxConnect)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", h.addr)
	cancel()
	if err != nil {
		h.fail(ctx, "dial", err)
		return
	}
	defer func() { _ = conn.Close() }()
	// Closing the connection is what unblocks a read when the run ends.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	_ = conn.SetDeadline(deadline)
	req := "GET " + h.path + " HTTP/1.0\r\nHost: " + h.addr + "\r\nUser-Agent: onair-load\r\nIcy-MetaData: 1\r\nAccept: */*\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		h.fail(ctx, "dial", err)
		return
	}
	br := bufio.NewReaderSize(conn, 8<<10)
	metaint, bitrate, err := readHead(br)
	if err != nil {
		kind := "header"
		if errors.Is(err, ErrStatus) {
			kind = "status"
		}
		h.fail(ctx, kind, err)
		return
	}
	h.mu.Lock()
	h.header, h.metaint, h.bitrate = time.Now(), metaint, bitrate
	h.mu.Unlock()

	rd := icy.NewReader(br, metaint, func(m icy.Meta) {
		h.blocks.Add(1)
		if m.Full {
			h.titles.Add(1)
		}
	})
	buf := make([]byte, 8<<10)
	var lastDeadline, first time.Time
	bps := float64(bitrate) * 1000 / 8
	for {
		n, err := rd.Read(buf)
		if n > 0 {
			now := time.Now()
			had := h.audio.Add(int64(n)) - int64(n)
			if had == 0 {
				first = now
				h.mu.Lock()
				h.first, h.gotFirst = now, true
				h.mu.Unlock()
				readyOnce()
			} else if bps > 0 {
				h.checkDry(now.Sub(first), had, bps)
			}
			// Moving the deadline costs a timer update: once a second is
			// enough to catch a stall.
			if now.Sub(lastDeadline) > time.Second {
				_ = conn.SetReadDeadline(now.Add(stallTimeout))
				lastDeadline = now
			}
		}
		if err != nil {
			h.mu.Lock()
			got := h.gotFirst
			h.mu.Unlock()
			if !got {
				kind := "read"
				if isTimeout(err) {
					kind = "timeout"
				}
				h.fail(ctx, kind, err)
				return
			}
			if ctx.Err() == nil {
				h.mu.Lock()
				h.ended, h.err = time.Now(), err
				h.mu.Unlock()
			}
			return
		}
	}
}

// checkDry notes how long the player model had been without audio when
// more arrived: after playing for elapsed at bps, it had had bytes.
func (h *httpListener) checkDry(elapsed time.Duration, had int64, bps float64) {
	short := elapsed - time.Duration(float64(had)/bps*float64(time.Second))
	if short <= 0 {
		return
	}
	h.mu.Lock()
	h.dry = max(h.dry, short)
	h.mu.Unlock()
}

func (h *httpListener) fail(ctx context.Context, kind string, err error) {
	if ctx.Err() != nil && !isTimeout(err) {
		kind = "cancelled"
	}
	if isTimeout(err) {
		kind = "timeout"
	}
	h.mu.Lock()
	h.failure, h.err = kind, err
	h.mu.Unlock()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// readHead reads a stream's response head: "HTTP/1.x 200" or Shoutcast's
// "ICY 200", then the header lines. It returns icy-metaint and icy-br.
func readHead(br *bufio.Reader) (metaint, bitrate int, err error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return 0, 0, fmt.Errorf("load: read status line: %w", err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	if (proto != "ICY" && !strings.HasPrefix(proto, "HTTP/1.")) || code != "200" {
		return 0, 0, fmt.Errorf("%w: %q", ErrStatus, line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return 0, 0, fmt.Errorf("load: read header: %w", err)
	}
	if v := hdr.Get("Icy-Metaint"); v != "" {
		if metaint, err = strconv.Atoi(v); err != nil || metaint <= 0 {
			return 0, 0, fmt.Errorf("load: bad icy-metaint %q", v)
		}
	}
	// icy-br may be "128" or "128,128" (Shoutcast); the first is enough.
	br0, _, _ := strings.Cut(hdr.Get("Icy-Br"), ",")
	bitrate, _ = strconv.Atoi(strings.TrimSpace(br0))
	return metaint, bitrate, nil
}

// HTTPResult is one HTTP listener's run.
type HTTPResult struct {
	ConnectMS float64 `json:"connect_ms,omitempty"` // dial to response head
	TTFBMS    float64 `json:"ttfb_ms,omitempty"`    // dial to first audio byte
	RateBps   float64 `json:"rate_bps"`             // audio bytes/s in the steady phase
	Blocks    int64   `json:"icy_blocks"`
	Failure   string  `json:"failure,omitempty"`
	Dropped   bool    `json:"dropped,omitempty"`
	// DryMS is the longest a player starting at the first byte would have
	// been silent, waiting for audio (0: never).
	DryMS float64 `json:"dry_ms,omitempty"`
	Error string  `json:"error,omitempty"`
}

// result summarises the listener once it is done; from and to are its
// audio byte counts at the edges of the steady phase.
func (h *httpListener) result(from, to int64, steady time.Duration) HTTPResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := HTTPResult{Blocks: h.blocks.Load(), Failure: h.failure, Dropped: h.failure == "" && !h.ended.IsZero(), DryMS: ms(h.dry)}
	if h.err != nil {
		r.Error = h.err.Error()
	}
	if !h.header.IsZero() {
		r.ConnectMS = ms(h.header.Sub(h.start))
	}
	if h.gotFirst {
		r.TTFBMS = ms(h.first.Sub(h.start))
	}
	if steady > 0 {
		r.RateBps = float64(to-from) / steady.Seconds()
	}
	return r
}
