package signalling

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
	"golang.org/x/time/rate"
)

// conn is one client socket. Its reader runs on the HTTP handler's
// goroutine and handles requests one at a time; its writer goroutine is the
// only one that writes data frames. Everyone else (broadcasts, pion
// callbacks) only queues into send and never waits.
type conn struct {
	hub  *Hub
	ws   *websocket.Conn
	log  *slog.Logger
	ctx  context.Context // ends when the socket closes or the hub closes
	stop context.CancelFunc

	send       chan outbound
	done       chan struct{} // closed by kill
	readDone   chan struct{} // closed when the reader stops reading
	writerDone chan struct{}
	killOnce   sync.Once
	closeCode  int // close frame the writer sends on done; 0 for none
	closeText  string
	released   func() // called once the socket is closed, if set

	// Written by the reader goroutine only, under mu; the reader reads
	// them without it, others (EndSession) with it.
	user  *onair.User
	token string // the session token user came with; "" if anonymous

	// Reader goroutine only.
	requests *rate.Limiter // the connection's request rate
	strikes  *rate.Limiter // how many rate-limited requests it may still send

	// rooms is guarded by Hub.mu.
	rooms map[string]struct{}

	mu    sync.Mutex            // guards peers, and user and token for readers other than the reader
	peers map[string]*peerEntry // station → PeerConnection
}

func newConn(h *Hub, ws *websocket.Conn, u *onair.User, token string) *conn {
	ctx, stop := context.WithCancel(h.ctx)
	return &conn{
		hub:        h,
		ws:         ws,
		log:        h.log.With("remote", ws.RemoteAddr().String()),
		ctx:        ctx,
		stop:       stop,
		send:       make(chan outbound, h.lim.SendQueue),
		done:       make(chan struct{}),
		readDone:   make(chan struct{}),
		writerDone: make(chan struct{}),
		user:       u,
		token:      token,
		requests:   rate.NewLimiter(rate.Limit(h.lim.MessagesPerSecond), h.lim.MessageBurst),
		strikes:    rate.NewLimiter(1, h.lim.FloodTolerance),
		rooms:      make(map[string]struct{}),
		peers:      make(map[string]*peerEntry),
	}
}

// push queues m without waiting. A client whose queue is full cannot keep
// up; it is disconnected so it never holds back the others.
func (c *conn) push(m outbound) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.send <- m:
	default:
		c.log.Info("slow client disconnected", "queue", cap(c.send))
		c.kill(0, "")
	}
}

// kill ends the socket once. With a code the writer sends that close frame
// first; without one the socket is shut at once, which also frees a writer
// stuck on a client that stopped reading.
func (c *conn) kill(code int, text string) {
	c.killOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
		if code == 0 {
			_ = c.ws.Close()
		}
	})
}

// writeLoop writes queued messages and pings until the socket is killed.
func (c *conn) writeLoop() {
	defer c.hub.wg.Done()
	defer close(c.writerDone)
	lim := &c.hub.lim
	ping := time.NewTicker(lim.PingInterval)
	defer ping.Stop()
	var deadline time.Time // of data writes
	for {
		select {
		case <-c.done:
			if c.closeCode != 0 {
				c.closeHandshake()
			}
			_ = c.ws.Close()
			return
		case m := <-c.send:
			// gorilla hands the deadline to the socket on every frame,
			// and a changed deadline costs a runtime timer update; a
			// broadcast to 10,000 sockets does not need 10,000 of them.
			// So a write gets between half and all of WriteTimeout.
			if now := time.Now(); deadline.Sub(now) < lim.WriteTimeout/2 {
				deadline = now.Add(lim.WriteTimeout)
				_ = c.ws.SetWriteDeadline(deadline)
			}
			if err := m.write(c.ws); err != nil {
				c.log.Debug("write failed", "err", err)
				c.kill(0, "")
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(lim.WriteTimeout)); err != nil {
				c.log.Debug("ping failed", "err", err)
				c.kill(0, "")
			}
		}
	}
}

// closeHandshake ends the socket politely: what is still queued (such as
// the errors that warned a flooding client), then the close frame, then a
// short wait for the client's own close while the reader discards what the
// client still sends. Shutting the socket with unread input would reset it,
// and the client would lose the messages before the close.
func (c *conn) closeHandshake() {
	deadline := time.Now().Add(closeGrace)
	_ = c.ws.SetWriteDeadline(deadline)
	for flushed := false; !flushed; {
		select {
		case m := <-c.send:
			if m.write(c.ws) != nil {
				return
			}
		default:
			flushed = true
		}
	}
	msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
	if c.ws.WriteControl(websocket.CloseMessage, msg, deadline) != nil {
		return
	}
	wait := time.NewTimer(closeGrace)
	defer wait.Stop()
	select {
	case <-c.readDone:
	case <-wait.C:
	}
}

// readLoop reads and handles requests until the socket fails, then tears
// the connection down: writer stopped, rooms left, peers closed, and the
// socket's owner told (released).
func (c *conn) readLoop() {
	defer c.hub.wg.Done()
	defer func() {
		close(c.readDone)
		c.kill(0, "")
		c.stop()
		<-c.writerDone
		_ = c.ws.Close()
		c.hub.unregister(c)
		c.closePeers()
		if c.released != nil {
			c.released()
		}
	}()
	lim := &c.hub.lim
	c.ws.SetReadLimit(lim.MaxMessageBytes)
	_ = c.ws.SetReadDeadline(time.Now().Add(lim.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(lim.PongWait))
	})
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			c.logReadError(err)
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(lim.PongWait))
		select {
		case <-c.done:
			// Closing: discard until the client's close frame, or
			// until the writer gives up and shuts the socket.
			continue
		default:
		}
		c.handleFrame(mt, data)
	}
}

// handleFrame handles one client message.
func (c *conn) handleFrame(mt int, data []byte) {
	var req request
	var err error
	if mt == websocket.TextMessage {
		req, err = decode(data)
	} else {
		err = onair.Errorf(onair.EInvalid, "only text frames holding JSON are accepted")
	}
	if !c.requests.AllowN(c.hub.now(), 1) {
		if !c.strikes.AllowN(c.hub.now(), 1) {
			c.log.Info("flooding client disconnected")
			c.kill(websocket.ClosePolicyViolation, "rate limit exceeded")
			return
		}
		c.replyError(req.Ref, onair.Errorf(onair.ERateLimited, "too many messages, slow down"))
		return
	}
	if err != nil {
		c.replyError(req.Ref, err)
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.hub.lim.RequestTimeout)
	defer cancel()
	if err := c.handle(ctx, req); err != nil {
		c.replyError(req.Ref, err)
	}
}

func (c *conn) logReadError(err error) {
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		c.log.Info("client message too large, disconnected", "limit", c.hub.lim.MaxMessageBytes)
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived):
		c.log.Debug("client closed")
	default:
		c.log.Debug("read ended", "err", err)
	}
}

// reply queues one message for this client.
func (c *conn) reply(event string, data any, ref string) {
	b, err := encode(event, data, ref)
	if err != nil {
		c.log.Error("encode reply", "err", err)
		return
	}
	c.push(single(b))
}

// replyError sends the contract's error event, echoing ref. Internal
// details are logged, not sent.
func (c *conn) replyError(ref string, err error) {
	code := wireCode(err)
	if code == onair.EInternal {
		c.log.Error("request failed", "err", err)
	}
	c.reply(evError, errorMsg{Code: code, Message: onair.ErrorMessage(err), Ref: ref}, ref)
}

// ack confirms a request that has no reply of its own, when it has a ref.
func (c *conn) ack(ref string) {
	if ref != "" {
		c.reply(evAck, ackMsg{Ref: ref}, ref)
	}
}
