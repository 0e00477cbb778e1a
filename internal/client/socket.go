// Package client is an onair client for tests and the load tool: the
// WebSocket protocol of the contract, a WebRTC listener that decodes what it
// really hears, and nothing else. It holds no server code.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Message is one frame of the contract's WebSocket protocol.
type Message struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data,omitempty"`
	Ref   string          `json:"ref,omitempty"`
	// At is when the client read it.
	At time.Time `json:"-"`
}

// Decode decodes the message's data into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Data, v) }

// Socket is one WebSocket connection to /ws. A reader goroutine hands each
// message to the first hook that takes it, else queues it for Next.
type Socket struct {
	conn *websocket.Conn
	in   chan Message
	done chan struct{}

	wmu sync.Mutex

	mu    sync.Mutex
	hooks []func(Message) bool
	err   error
}

// Dial connects to a /ws URL (ws://host/ws). header may carry a cookie,
// Authorization or Origin.
func Dial(ctx context.Context, url string, header http.Header) (*Socket, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, url, header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("client: dial %s: %w (status %d)", url, err, resp.StatusCode)
		}
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	s := &Socket{conn: conn, in: make(chan Message, 4096), done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *Socket) read() {
	defer close(s.done)
	for {
		var m Message
		_, b, err := s.conn.ReadMessage()
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
		if err := json.Unmarshal(b, &m); err != nil {
			m = Message{Event: "client:invalid", Data: b}
		}
		m.At = time.Now()
		if s.hooked(m) {
			continue
		}
		select {
		case s.in <- m:
		default:
			// A test that stopped reading; the oldest is dropped.
			<-s.in
			s.in <- m
		}
	}
}

func (s *Socket) hooked(m Message) bool {
	s.mu.Lock()
	hooks := append([]func(Message) bool(nil), s.hooks...)
	s.mu.Unlock()
	for _, h := range hooks {
		if h(m) {
			return true
		}
	}
	return false
}

// hook routes matching messages away from Next.
func (s *Socket) hook(h func(Message) bool) {
	s.mu.Lock()
	s.hooks = append(s.hooks, h)
	s.mu.Unlock()
}

// Send sends one event with data (nil for none) and an optional ref.
func (s *Socket) Send(event string, data any, ref ...string) error {
	m := map[string]any{"event": event}
	if data != nil {
		m["data"] = data
	}
	if len(ref) > 0 {
		m["ref"] = ref[0]
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.SendRaw(websocket.TextMessage, b)
}

// SendRaw sends a frame as it is: for tests of malformed input.
func (s *Socket) SendRaw(kind int, b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.conn.WriteMessage(kind, b)
}

// ErrClosed is returned by Next once the connection is gone.
var ErrClosed = errors.New("client: socket closed")

// Next returns the next message that is not hooked, in order.
func (s *Socket) Next(ctx context.Context) (Message, error) {
	select {
	case m := <-s.in:
		return m, nil
	default:
	}
	select {
	case m := <-s.in:
		return m, nil
	case <-s.done:
		select {
		case m := <-s.in:
			return m, nil
		default:
		}
		return Message{}, fmt.Errorf("%w: %w", ErrClosed, s.Err())
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Wait skips messages until one has the event and satisfies match (nil
// matches any).
func (s *Socket) Wait(ctx context.Context, event string, match func(Message) bool) (Message, error) {
	for {
		m, err := s.Next(ctx)
		if err != nil {
			return m, fmt.Errorf("client: waiting for %s: %w", event, err)
		}
		if m.Event == event && (match == nil || match(m)) {
			return m, nil
		}
	}
}

// Err is why the connection ended, nil while it is open.
func (s *Socket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Done is closed when the connection ends.
func (s *Socket) Done() <-chan struct{} { return s.done }

// Close closes the connection and waits for the reader.
func (s *Socket) Close() error {
	err := s.conn.Close()
	<-s.done
	return err
}
