package signalling

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
	"golang.org/x/time/rate"
)

// conn is one client socket. Its reader goroutine handles requests one at
// a time. Its writer goroutine is the only one that writes data frames; it
// runs only while something waits to be written, so an idle socket holds
// no writer and no stack for it. Everyone else (broadcasts, pion
// callbacks) only queues with push and never waits.
type conn struct {
	hub  *Hub
	ws   *websocket.Conn
	ctx  context.Context // ends when the socket closes or the hub closes
	stop context.CancelFunc

	done      chan struct{} // closed by kill
	readDone  chan struct{} // closed when the reader stops reading
	killOnce  sync.Once
	closeCode int // close frame the writer sends on done; 0 for none
	closeText string
	ping      *time.Timer    // queues a ping every PingInterval
	released  func()         // called once the socket is closed, if set
	writers   sync.WaitGroup // the writer goroutine, while it runs

	qmu     sync.Mutex
	queue   []outbound // waiting for the writer, at most SendQueue
	writing bool       // a writer goroutine runs (or, once dead, ran last)
	dead    bool       // killed: nothing more is queued

	// Writer goroutine only (one at a time, ordered by qmu).
	deadline time.Time // of data writes

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
		hub:      h,
		ws:       ws,
		ctx:      ctx,
		stop:     stop,
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
		user:     u,
		token:    token,
		requests: rate.NewLimiter(rate.Limit(h.lim.MessagesPerSecond), h.lim.MessageBurst),
		strikes:  rate.NewLimiter(1, h.lim.FloodTolerance),
		rooms:    make(map[string]struct{}),
		peers:    make(map[string]*peerEntry),
	}
}

// logger is the hub's logger with the client's address. It is made when
// something is logged, which is rare, rather than kept by every socket.
func (c *conn) logger() *slog.Logger {
	return c.hub.log.With("remote", c.ws.RemoteAddr().String())
}

// idleQueue is the largest send queue array an idle socket keeps: a
// listener count or a chat message at a time needs no new one, and a
// burst's (a room's welcome) is let go.
const idleQueue = 4

// push queues m without waiting, and starts the writer if none runs. A
// client whose queue is full cannot keep up; it is disconnected so it never
// holds back the others.
func (c *conn) push(m outbound) {
	c.qmu.Lock()
	if c.dead {
		c.qmu.Unlock()
		return
	}
	if len(c.queue) >= c.hub.lim.SendQueue {
		c.qmu.Unlock()
		c.logger().Info("slow client disconnected", "queue", c.hub.lim.SendQueue)
		c.kill(0, "")
		return
	}
	c.queue = append(c.queue, m)
	start := !c.writing
	if start {
		c.writing = true
		c.writers.Add(1)
	}
	c.qmu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// kill ends the socket once. With a code the writer sends that close frame
// first; without one the socket is shut at once, which also frees a writer
// stuck on a client that stopped reading.
func (c *conn) kill(code int, text string) {
	c.killOnce.Do(func() {
		c.qmu.Lock()
		c.dead = true
		c.closeCode, c.closeText = code, text
		start := code != 0 && !c.writing
		if start {
			c.writing = true
			c.writers.Add(1)
		}
		if c.ping != nil {
			c.ping.Stop()
		}
		c.qmu.Unlock()
		close(c.done)
		if code == 0 {
			_ = c.ws.Close()
		}
		if start {
			go c.writeLoop()
		}
	})
}

// keepAlive queues a ping every PingInterval until the socket is killed;
// the pong (or any frame) moves the reader's deadline. It is called before
// the socket is registered, as kill reads c.ping.
func (c *conn) keepAlive() {
	// Armed once c.ping is set, which the callback reads.
	c.ping = time.AfterFunc(time.Duration(math.MaxInt64), c.pingDue)
	c.ping.Reset(c.hub.lim.PingInterval)
}

func (c *conn) pingDue() {
	c.push(pingFrame{timeout: c.hub.lim.WriteTimeout})
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if !c.dead { // kill stops the timer under qmu
		c.ping.Reset(c.hub.lim.PingInterval)
	}
}

// writeLoop writes what is queued, then ends; push starts another when
// there is more. Once the socket is killed with a close code it says
// goodbye (closeHandshake) and shuts the socket.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	lim := &c.hub.lim
	for {
		c.qmu.Lock()
		if c.dead {
			c.qmu.Unlock() // writing stays true: no writer starts again
			if c.closeCode != 0 {
				c.closeHandshake()
			}
			_ = c.ws.Close()
			return
		}
		if len(c.queue) == 0 {
			c.writing = false
			if cap(c.queue) > idleQueue {
				c.queue = nil // a burst's array is not kept
			}
			c.qmu.Unlock()
			return
		}
		m := c.queue[0]
		n := copy(c.queue, c.queue[1:])
		c.queue[n] = nil
		c.queue = c.queue[:n]
		c.qmu.Unlock()
		// gorilla hands the deadline to the socket on every frame,
		// and a changed deadline costs a runtime timer update; a
		// broadcast to 10,000 sockets does not need 10,000 of them.
		// So a write gets between half and all of WriteTimeout.
		if now := time.Now(); c.deadline.Sub(now) < lim.WriteTimeout/2 {
			c.deadline = now.Add(lim.WriteTimeout)
			_ = c.ws.SetWriteDeadline(c.deadline)
		}
		if err := m.write(c.ws); err != nil {
			c.logger().Debug("write failed", "err", err)
			c.kill(0, "")
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
	c.qmu.Lock()
	queued := c.queue
	c.queue = nil
	c.qmu.Unlock()
	for _, m := range queued {
		if m.write(c.ws) != nil {
			return
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
		c.writers.Wait()
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
		c.handleOff(mt, data)
	}
}

// handleOff handles a request on a goroutine of its own and waits for it.
// A request (an offer: SDP parsing, the peer's set-up) grows a stack to
// tens of KB; on the reader, which lives as long as the socket, that
// stack would stay grown.
func (c *conn) handleOff(mt int, data []byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.handleFrame(mt, data)
	}()
	<-done
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
			c.logger().Info("flooding client disconnected")
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
		c.logger().Info("client message too large, disconnected", "limit", c.hub.lim.MaxMessageBytes)
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived):
		c.logger().Debug("client closed")
	default:
		c.logger().Debug("read ended", "err", err)
	}
}

// reply queues one message for this client.
func (c *conn) reply(event string, data any, ref string) {
	b, err := encode(event, data, ref)
	if err != nil {
		c.logger().Error("encode reply", "err", err)
		return
	}
	c.push(single(b))
}

// replyError sends the contract's error event, echoing ref. Internal
// details are logged, not sent.
func (c *conn) replyError(ref string, err error) {
	code := wireCode(err)
	if code == onair.EInternal {
		c.logger().Error("request failed", "err", err)
	}
	c.reply(evError, errorMsg{Code: code, Message: onair.ErrorMessage(err), Ref: ref}, ref)
}

// ack confirms a request that has no reply of its own, when it has a ref.
func (c *conn) ack(ref string) {
	if ref != "" {
		c.reply(evAck, ackMsg{Ref: ref}, ref)
	}
}
