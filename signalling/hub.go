// Package signalling owns the WebSocket side of onair: one socket per client
// at /ws carrying WebRTC offers, answers and ICE candidates, station rooms,
// chat, likes and the live station events the relay publishes.
package signalling

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
)

// Hub serves GET /ws and fans station events out to the sockets. cmd fills
// it as a struct literal, calls Start, mounts it as an http.Handler and
// calls Close on shutdown. Fields must be set before the first call to any
// method and not changed afterwards. A nil dependency makes the requests
// that need it fail with an internal error; everything else keeps working.
//
// Each socket has one reader (the HTTP handler's goroutine, which also runs
// the client's requests one at a time, in order) and one writer goroutine
// fed by a bounded queue. Broadcasts are encoded once into a
// websocket.PreparedMessage and the same frame is queued to every member;
// a client whose queue is full is disconnected rather than waited for.
//
// Where the contract is silent, the hub does this:
//   - A reply carries its request's "ref": webrtc:answer, auth, and the
//     first message of a join's welcome. An error carries it in data.ref
//     (always present, "" when the request had none) and in the envelope.
//   - A request that succeeds without a reply of its own (stream:start,
//     stream:stop, stream:update-metadata, stream:leave, webrtc:candidate,
//     chat:send, interaction:send) is answered {"event":"ack",
//     "data":{"ref"},"ref"} when, and only when, it carried a ref.
//   - A join's welcome is stream:live or stream:offline, stream:metadata
//     (live only), stream:listeners, the room's last chat:message events
//     and interaction:count (when a like store is set).
//   - chat:send and interaction:send need an account and a joined room
//     (bad_request "join ... first" otherwise); webrtc:offer needs neither.
//   - More than MaxPeers PeerConnections or MaxRooms rooms on one socket
//     is rate_limited.
type Hub struct {
	Auth     authenticator
	Control  controller
	Stations stationState
	Peers    peerFactory
	Likes    likeCounter
	// Mirror, when set, carries chat messages and like counts to the other
	// nodes of a cluster, which hand them to DeliverChat and DeliverLikes,
	// and gives chat messages their cluster-wide IDs.
	Mirror mirror

	Logger *slog.Logger
	// AllowedOrigins lists extra browser origins ("https://radio.example")
	// that may open a socket, besides the server's own host.
	AllowedOrigins []string
	// Now stamps chat messages and drives the rate limiters. The
	// listener-count window runs on the monotonic clock.
	Now    func() time.Time
	Limits Limits
	// OnEngagement, when set, is told of each chat message posted and each
	// like counted, with the station and "chat" or "like", for the
	// statistics. It is called on the sender's reader goroutine and must
	// not block.
	OnEngagement func(station, kind string)

	initOnce sync.Once
	lim      Limits
	log      *slog.Logger
	upgrader websocket.Upgrader
	ctx      context.Context
	cancel   context.CancelFunc
	mbox     mailbox
	chatLim  userLimits
	likeLim  userLimits

	// fan orders deliveries: held from a change under mu until what it
	// sends is queued (see outbox). Taken before mu, never after.
	fan sync.Mutex
	// mu guards the hub state below and every room and conn.rooms. No
	// message is pushed while it is held.
	mu    sync.Mutex
	state hubState
	conns map[*conn]struct{}
	// ends counts the times sessions were ended (endWhere): a socket
	// authenticated before an end and registered after it is checked
	// again, else a logout racing the upgrade would miss it.
	ends  uint64
	rooms map[string]*room
	// due holds the rooms with a coalesced listener count waiting.
	due map[*room]struct{}
	// wg counts every goroutine the hub owns; a socket's reader counts
	// for its writers too.
	wg sync.WaitGroup
}

type hubState int

const (
	hubNew hubState = iota
	hubRunning
	hubClosed
)

// socketReadBuffer is the size of a socket's read buffer.
const socketReadBuffer = 512

// closeGrace bounds how long a close frame may take to leave.
const closeGrace = time.Second

func (h *Hub) init() {
	h.initOnce.Do(func() {
		h.lim = h.Limits.withDefaults()
		h.log = h.Logger
		if h.log == nil {
			h.log = slog.New(slog.DiscardHandler)
		}
		h.log = h.log.With("component", "signalling")
		h.ctx, h.cancel = context.WithCancel(context.Background())
		h.mbox.init(h.lim.MaxPendingEvents)
		h.chatLim.init(h.lim.ChatPerSecond, h.lim.ChatBurst)
		h.likeLim.init(h.lim.LikesPerSecond, h.lim.LikeBurst)
		h.conns = make(map[*conn]struct{})
		h.rooms = make(map[string]*room)
		h.due = make(map[*room]struct{})
		h.upgrader = websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			// A socket keeps its read buffer for life; at 0 gorilla
			// keeps the HTTP server's 4 KB one. Requests are a few
			// hundred bytes (an offer a few KB, read through in
			// pieces), and a control frame needs 125.
			ReadBufferSize: socketReadBuffer,
			// Prepared broadcasts bypass the write buffer; pooling it
			// keeps idle sockets from holding one each.
			WriteBufferPool: &sync.Pool{},
			// ServeHTTP has checked the origin already, with a JSON 403.
			CheckOrigin: func(*http.Request) bool { return true },
			Error:       upgradeError,
		}
	})
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Start starts the hub's event loop. Sockets are refused until it runs.
func (h *Hub) Start() error {
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch h.state {
	case hubRunning:
		return ErrStarted
	case hubClosed:
		return ErrClosed
	}
	h.state = hubRunning
	h.wg.Go(h.run)
	return nil
}

// Close disconnects every client (close 1001, going away), closes their
// PeerConnections and waits for every goroutine the hub started. It is
// safe to call more than once.
func (h *Hub) Close() error {
	h.init()
	h.mu.Lock()
	if h.state == hubClosed {
		h.mu.Unlock()
		return nil
	}
	h.state = hubClosed
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()

	h.cancel()
	for _, c := range conns {
		c.kill(websocket.CloseGoingAway, "server shutting down")
	}
	// A writer stuck on a client that stopped reading would hold Close
	// for a whole WriteTimeout; past the grace its socket is just shut.
	stopped := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(stopped)
	}()
	force := time.NewTimer(2 * closeGrace)
	defer force.Stop()
	select {
	case <-stopped:
	case <-force.C:
		for _, c := range conns {
			_ = c.ws.Close()
		}
		<-stopped
	}
	return nil
}

// Connections returns the number of open sockets.
func (h *Hub) Connections() int {
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Publish hands a station event to the hub. It never blocks: the relay
// calls it from its playout goroutines. Listener counts of one station
// that are still waiting replace each other; beyond MaxPendingEvents other
// events are dropped and logged.
func (h *Hub) Publish(e onair.Event) {
	h.init()
	if !h.mbox.put(e) {
		h.log.Warn("event dropped: hub is behind", "station", e.Station, "kind", e.Kind.String())
	}
}

// run is the hub's event loop: it fans out published events, sends
// coalesced listener counts when their window ends and prunes idle rate
// limiters.
func (h *Hub) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	for {
		select {
		case <-h.ctx.Done():
			timer.Stop()
			return
		case <-h.mbox.wake:
			for _, e := range h.mbox.take() {
				h.dispatch(e)
			}
		case <-timer.C:
			h.flushListeners(time.Now())
		case <-prune.C:
			now := h.now()
			h.chatLim.prune(now)
			h.likeLim.prune(now)
		}
		if d, ok := h.nextListeners(time.Now()); ok {
			timer.Reset(d)
		}
	}
}

// dispatch turns one relay event into the contract's messages.
func (h *Hub) dispatch(e onair.Event) {
	switch e.Kind {
	case onair.EventStarted:
		h.toAll(h.prepare(evStarted, startedMsg{Station: e.Station, StartedAt: formatTime(e.StartedAt)}))
		h.toRoom(e.Station, h.prepare(evLive, stationMsg{Station: e.Station}))
	case onair.EventStopped:
		h.toAll(h.prepare(evStopped, stationMsg{Station: e.Station}))
		h.toRoom(e.Station, h.prepare(evOffline, stationMsg{Station: e.Station}))
		h.dropStationPeers(e.Station)
	case onair.EventMetadata:
		if e.NowPlaying == nil {
			return
		}
		h.toRoom(e.Station, h.prepare(evMetadata, newMetadataMsg(e.Station, e.NowPlaying)))
	case onair.EventListeners:
		h.listenersChanged(e.Station, e.Listeners, time.Now())
	case onair.EventSource:
		h.toRoom(e.Station, h.prepare(evSource, newSourceMsg(e.Station, e.Source)))
	default:
		h.log.Warn("unknown event kind", "station", e.Station, "kind", int(e.Kind))
	}
}

// prepare encodes a broadcast once, for every socket that gets it.
func (h *Hub) prepare(event string, data any) *shared {
	b, err := encode(event, data, "")
	if err != nil {
		h.log.Error("encode broadcast", "err", err)
		return nil
	}
	msg, err := newShared(b)
	if err != nil {
		h.log.Error("prepare broadcast", "event", event, "err", err)
		return nil
	}
	return msg
}

// toAll queues msg to every socket, in a room or not.
func (h *Hub) toAll(msg *shared) {
	if msg == nil {
		return
	}
	_ = h.locked(func(o *outbox) error {
		for c := range h.conns {
			o.add(c, msg)
		}
		return nil
	})
}

// toRoom queues msg to the members of a station's room.
func (h *Hub) toRoom(slug string, msg *shared) {
	if msg == nil {
		return
	}
	_ = h.locked(func(o *outbox) error {
		if r := h.rooms[slug]; r != nil {
			r.broadcast(o, msg)
		}
		return nil
	})
}

// register adds a new socket, or reports false when the hub is not
// running. The socket's reader is counted before it starts; it waits for
// the socket's writers before it ends.
// register adds c to the hub, and says whether sessions were ended since
// ends was read (before c's user was authenticated).
func (h *Hub) register(c *conn, ends uint64) (ok, endedSince bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != hubRunning {
		return false, false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true, h.ends != ends
}

// endCount is how many times sessions were ended so far.
func (h *Hub) endCount() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ends
}

// unregister removes a closed socket from the hub and its rooms.
func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for slug := range c.rooms {
		h.leaveLocked(c, slug)
	}
	delete(h.conns, c)
}

// dropStationPeers forgets every PeerConnection of a stopped station and
// closes them on a hub goroutine, so the event loop does not wait on the
// WebRTC side. The station's track closes them too; closing twice is
// harmless.
func (h *Hub) dropStationPeers(slug string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var peers []*peerEntry
	for c := range h.conns {
		if e := c.detachPeer(slug); e != nil {
			peers = append(peers, e)
		}
	}
	if len(peers) == 0 {
		return
	}
	// The run goroutine holds a count, so Add cannot race with Wait.
	h.wg.Go(func() {
		for _, e := range peers {
			e.close()
		}
	})
}
