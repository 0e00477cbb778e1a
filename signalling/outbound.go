package signalling

import (
	"fmt"
	"time"

	"github.com/gorilla/websocket"
)

// outbound is one item of a socket's send queue. The writer goroutine is
// the only caller of write.
type outbound interface {
	write(ws *websocket.Conn) error
}

// shared is a broadcast: encoded and framed once, queued as the same
// pointer to every socket that gets it.
type shared struct {
	pm   *websocket.PreparedMessage
	text []byte // the encoded message, as framed in pm
}

func newShared(b []byte) (*shared, error) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, b)
	if err != nil {
		return nil, fmt.Errorf("signalling: prepare message: %w", err)
	}
	return &shared{pm: pm, text: b}, nil
}

func (s *shared) write(ws *websocket.Conn) error { return ws.WritePreparedMessage(s.pm) }

// single is a message for one socket: a reply, an error, a candidate.
type single []byte

func (s single) write(ws *websocket.Conn) error { return ws.WriteMessage(websocket.TextMessage, s) }

// batch is several messages that must arrive together and in order, such as
// the welcome of a joined room; it takes one queue slot.
type batch [][]byte

func (b batch) write(ws *websocket.Conn) error {
	for _, m := range b {
		if err := ws.WriteMessage(websocket.TextMessage, m); err != nil {
			return err
		}
	}
	return nil
}

// pingFrame is the keep-alive ping, queued like a message so that only
// the writer writes; the client's pong moves the reader's deadline.
type pingFrame struct{ timeout time.Duration }

func (p pingFrame) write(ws *websocket.Conn) error {
	return ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(p.timeout))
}
