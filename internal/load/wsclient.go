package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is one page left open on a station: a WebSocket that joined the
// station's room and notes when each of the run's metadata events reaches
// it.
//
// It speaks the protocol with gorilla/websocket directly rather than
// through internal/client: with 10,000 of them in the tool, decoding every
// frame into a client.Message (and the goroutine and 4096-slot queue per
// socket) costs the tool enough CPU on a 2-core machine to show up as
// server latency. Here a frame is only searched for the run's title prefix;
// its arrival time is taken as soon as it is read.
type wsClient struct {
	wsURL, station string
	maxConnect     time.Duration
	prefix         []byte // title prefix of this run's events
	ready          chan struct{}

	mu      sync.Mutex
	start   time.Time
	joined  time.Time
	conn    *websocket.Conn
	recv    []time.Time // by event number; zero until received
	closed  bool        // the socket ended
	failure string
	err     error
}

func newWSClient(wsURL, station, prefix string, events int, maxConnect time.Duration) *wsClient {
	return &wsClient{
		wsURL: wsURL, station: station, prefix: []byte(prefix), maxConnect: maxConnect,
		recv: make([]time.Time, events), ready: make(chan struct{}),
	}
}

var wsDialer = websocket.Dialer{ReadBufferSize: 2048, WriteBufferSize: 1024}

// run joins the room, then reads until ctx ends or the socket closes.
func (w *wsClient) run(ctx context.Context) {
	conn, ok := w.join(ctx)
	if !ok {
		return
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
	}()
	metadata := []byte(`"event":"stream:metadata"`)
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() == nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
			}
			return
		}
		at := time.Now()
		i := bytes.Index(b, w.prefix)
		if i < 0 || !bytes.Contains(b, metadata) {
			continue
		}
		rest := b[i+len(w.prefix):]
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		k, err := strconv.Atoi(string(rest[:n]))
		w.mu.Lock()
		if err == nil && k >= 0 && k < len(w.recv) && w.recv[k].IsZero() {
			w.recv[k] = at
		}
		w.mu.Unlock()
	}
}

// join dials and joins; it reports whether the client got in.
func (w *wsClient) join(ctx context.Context) (*websocket.Conn, bool) {
	defer close(w.ready)
	start := time.Now()
	w.mu.Lock()
	w.start = start
	w.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, w.maxConnect)
	defer cancel()
	conn, resp, err := wsDialer.DialContext(cctx, w.wsURL, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close() // the handshake's; the socket is conn
	}
	if err != nil {
		w.fail(ctx, "dial", err)
		return nil, false
	}
	// Closing is what ends a read when the join takes too long.
	stop := context.AfterFunc(cctx, func() { _ = conn.Close() })
	defer stop()
	w.mu.Lock()
	w.conn = conn
	w.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"event": "stream:join", "data": map[string]string{"station": w.station}})
	if err == nil {
		_ = conn.SetWriteDeadline(start.Add(w.maxConnect))
		err = conn.WriteMessage(websocket.TextMessage, msg)
	}
	if err != nil {
		w.fail(ctx, "join", err)
		_ = conn.Close()
		return nil, false
	}
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			if cctx.Err() != nil {
				err = fmt.Errorf("load: no answer to join: %w", cctx.Err())
			}
			w.fail(ctx, "join", err)
			_ = conn.Close()
			return nil, false
		}
		var env struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &env) != nil {
			continue
		}
		switch env.Event {
		case "stream:live", "stream:offline":
			w.mu.Lock()
			w.joined = time.Now()
			w.mu.Unlock()
			if !stop() {
				// The deadline closed the connection just now.
				w.fail(ctx, "join", fmt.Errorf("load: joined too late: %w", cctx.Err()))
				return nil, false
			}
			return conn, true
		case "error":
			w.fail(ctx, "join", fmt.Errorf("load: join refused: %s", env.Data))
			_ = conn.Close()
			return nil, false
		}
	}
}

func (w *wsClient) fail(ctx context.Context, kind string, err error) {
	if ctx.Err() != nil {
		kind = "cancelled"
	} else if isTimeout(err) {
		kind = "timeout"
	}
	w.mu.Lock()
	w.failure, w.err = kind, err
	w.mu.Unlock()
}

// received returns when each event arrived (zero: not yet).
func (w *wsClient) received() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.recv...)
}

// alive reports whether the socket is still open.
func (w *wsClient) alive() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.joined.IsZero() && !w.closed
}

// WSResult is one WebSocket client's run.
type WSResult struct {
	JoinMS    float64   `json:"join_ms,omitempty"` // dial to stream:live
	LatencyMS []float64 `json:"event_latency_ms,omitempty"`
	Missed    int       `json:"missed,omitempty"`
	Dropped   bool      `json:"dropped,omitempty"`
	Failure   string    `json:"failure,omitempty"`
	Error     string    `json:"error,omitempty"`
}

func (w *wsClient) result(sent []time.Time) WSResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := WSResult{Failure: w.failure}
	if w.err != nil {
		r.Error = w.err.Error()
	}
	if w.joined.IsZero() {
		return r
	}
	r.JoinMS = ms(w.joined.Sub(w.start))
	for k, at := range sent {
		if at.IsZero() {
			continue // never sent
		}
		if w.recv[k].IsZero() {
			r.Missed++
			continue
		}
		r.LatencyMS = append(r.LatencyMS, ms(w.recv[k].Sub(at)))
	}
	return r
}
