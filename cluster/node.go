// Package cluster carries a station's encoded outputs and the hub's events
// between the nodes of an onair cluster, over NATS. It is the only package
// that knows NATS: the relay sees a Tap, a Nodes table and replica
// stations, the hub a Mirror and Deliver calls.
//
// An origin plays the stations and publishes, for each output that has a
// listener on some other node, its chunks (MP3 with their ICY title marks,
// Ogg with its header pages) and Opus packets once, with every station
// event. An edge runs a replica of each live station fed from those
// subjects, serves listeners, pages and sockets, and hands everything that
// needs the database (logins, control, uploads, reads) to the origin over
// request/reply with the caller's credentials. Every node says what its
// listeners are every few seconds; a node silent for three of those stops
// being counted.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

// Roles of a node.
const (
	RoleOrigin = "origin"
	RoleEdge   = "edge"
)

// hubSink is the hub (signalling) as the cluster feeds it.
type hubSink interface {
	DeliverChat(slug string, frame []byte) error
	DeliverLikes(slug string, count int64)
	EndSession(token string)
	EndUser(id int64, keepToken string)
}

// Node is this process in a cluster. Fill the fields, Start it, and Close
// it after the HTTP server stopped and before the relay closes.
type Node struct {
	Name   string
	Role   string // RoleOrigin or RoleEdge
	URL    string // the NATS server
	Relay  *relay.Relay
	Hub    hubSink
	Logger *slog.Logger
	// Origin holds what an origin answers edges with; origin only.
	Origin Services
	// PublicURL is the origin's http.public_url, told to edges so that
	// they can send live sources there; origin only.
	PublicURL string
	// MaxUpload bounds a forwarded request body (upload.max_bytes).
	MaxUpload int64
	// Heartbeat is how often the node says what its listeners are;
	// default 2 s. A node silent for 3 heartbeats is forgotten (within
	// 15 s at most).
	Heartbeat time.Duration
	// OutageGrace is how long an edge cut off from NATS keeps its
	// listeners on what they have before closing them; default 2 s.
	OutageGrace time.Duration

	initOnce sync.Once
	nc       *nats.Conn
	js       jetstream.JetStream
	objMu    sync.Mutex
	obs      jetstream.ObjectStore // made at the first large body
	// chatStream is set once the stream of chat IDs is made (objMu).
	chatStream bool
	table      *table
	log        *slog.Logger
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeMu    sync.RWMutex
	closing    bool // no more goroutines: Close waits for wg
	healthy    atomic.Bool
	dirty      chan struct{} // local demand or counts changed
	conn       chan bool     // NATS went down (false) or came back (true)
	stats      stats
	// audioDelay and eventDelay are what reached this edge from the
	// origin, for /metrics.
	audioDelay, opusDelay, eventDelay delays
	sem                               chan struct{} // bounds concurrent requests served
	reads                             readCache     // an edge's recent public reads

	origin *originState
	edge   *edgeState
}

// stats count what the node carried and dropped.
type stats struct {
	published atomic.Int64
	received  atomic.Int64
	dropped   atomic.Int64
	bytesOut  atomic.Int64
	bytesIn   atomic.Int64
}

func (n *Node) heartbeat() time.Duration {
	if n.Heartbeat > 0 {
		return n.Heartbeat
	}
	return 2 * time.Second
}

// init makes what the relay may use before Start: the node table, the
// tap and the event queue.
func (n *Node) init() {
	n.initOnce.Do(func() {
		n.log = n.Logger
		if n.log == nil {
			n.log = slog.New(slog.DiscardHandler)
		}
		n.log = n.log.With("component", "cluster", "node", n.Name, "role", n.Role)
		n.ctx, n.cancel = context.WithCancel(context.Background())
		n.table = newTable(n.Name, 3*n.heartbeat())
		n.dirty = make(chan struct{}, 1)
		n.conn = make(chan bool, 16)
		n.sem = make(chan struct{}, 64)
		if n.Role == RoleOrigin {
			n.origin = &originState{events: make(chan onair.Event, 1024), epochs: map[string]int64{}}
			n.origin.sessions.open = map[string]onair.ListenSession{}
		}
	})
}

// Start joins the cluster. A NATS server that cannot be reached within a
// few seconds fails it.
func (n *Node) Start() error {
	n.init()
	nc, err := connect(n.URL, n.Name,
		func() { n.connChanged(true) },
		func() { n.connChanged(false) })
	if err != nil {
		n.cancel()
		return err
	}
	n.nc = nc
	n.healthy.Store(true)
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		n.cancel()
		return err
	}
	n.js = js
	// Large bodies travel through the object store: JetStream must be on.
	ctx, cancel := context.WithTimeout(n.ctx, connectTimeout)
	_, err = js.AccountInfo(ctx)
	cancel()
	if err != nil {
		nc.Close()
		n.cancel()
		return fmt.Errorf("%w: the NATS server at %s has no JetStream (run it with -js): %w", ErrConnect, n.URL, err)
	}
	subs := []struct {
		subj string
		fn   nats.MsgHandler
	}{
		{subjNodes, n.onHeartbeat},
		{"onair.*." + kindChat, n.onChat},
		{"onair.*." + kindLikes, n.onLikes},
		{subjSessions, n.onSessionEnd},
	}
	for _, s := range subs {
		if _, err := nc.Subscribe(s.subj, s.fn); err != nil {
			nc.Close()
			n.cancel()
			return err
		}
	}
	switch n.Role {
	case RoleOrigin:
		err = n.startOrigin()
	default:
		err = n.startEdge()
	}
	if err != nil {
		nc.Close()
		n.cancel()
		return err
	}
	n.wg.Go(n.loop)
	n.log.Info("joined the cluster", "nats", nc.ConnectedUrlRedacted())
	return nil
}

// Close leaves the cluster and waits for the node's goroutines.
func (n *Node) Close() {
	n.init()
	n.closeMu.Lock()
	n.closing = true
	n.closeMu.Unlock()
	n.cancel()
	n.wg.Wait()
	if n.nc != nil {
		n.nc.Close()
	}
}

// Healthy reports whether the node is connected to NATS.
func (n *Node) Healthy() bool { return n.healthy.Load() }

// Nodes is what the relay asks of the other nodes.
func (n *Node) Nodes() relay.Nodes {
	n.init()
	return n.table
}

func (n *Node) connChanged(up bool) {
	n.healthy.Store(up)
	select {
	case n.conn <- up:
	default:
	}
}

// markDirty asks the loop to look at the local listeners now. It never
// blocks: the relay calls it on station goroutines.
func (n *Node) markDirty(string) {
	select {
	case n.dirty <- struct{}{}:
	default:
	}
}

// loop sends heartbeats, forgets silent nodes and follows local demand.
func (n *Node) loop() {
	tick := time.NewTicker(n.heartbeat())
	defer tick.Stop()
	expire := time.NewTicker(time.Second)
	defer expire.Stop()
	var outage *time.Timer
	var outageC <-chan time.Time
	defer func() {
		if outage != nil {
			outage.Stop()
		}
	}()
	// A burst of listener changes sends one heartbeat, at most every
	// 100 ms.
	var last time.Time
	coalesce := time.NewTimer(time.Hour)
	coalesce.Stop()
	defer coalesce.Stop()
	n.sendHeartbeat()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
			n.sendHeartbeat()
			last = time.Now()
			if n.origin != nil {
				n.publishState()
			}
		case <-expire.C:
			gone, slugs := n.table.expire(time.Now())
			for _, name := range gone {
				n.log.Info("node went silent; its listeners no longer count", "peer", name)
				n.endSessionsOf(name)
			}
			n.refresh(slugs)
			if n.edge != nil {
				n.checkOrigin(time.Now())
			}
		case <-n.dirty:
			if n.edge != nil {
				n.followDemand()
			}
			if d := time.Since(last); d < 100*time.Millisecond {
				coalesce.Reset(100*time.Millisecond - d)
				continue
			}
			n.sendHeartbeat()
			last = time.Now()
		case <-coalesce.C:
			n.sendHeartbeat()
			last = time.Now()
		case up := <-n.conn:
			if up {
				n.log.Info("NATS connection back")
				if outage != nil {
					outage.Stop()
					outage, outageC = nil, nil
				}
				if n.edge != nil {
					n.syncState()
				}
				n.sendHeartbeat()
				continue
			}
			n.log.Warn("NATS connection lost")
			if n.edge != nil && outage == nil {
				outage = time.NewTimer(n.outageGrace())
				outageC = outage.C
			}
		case <-outageC:
			outage, outageC = nil, nil
			if !n.Healthy() && n.edge != nil {
				n.dropReplicas()
			}
		}
	}
}

func (n *Node) outageGrace() time.Duration {
	if n.OutageGrace > 0 {
		return n.OutageGrace
	}
	return 2 * time.Second
}

// refresh tells the relay that other nodes' figures of stations changed.
func (n *Node) refresh(slugs []string) {
	for _, slug := range slugs {
		n.Relay.Refresh(slug)
	}
}

// localLoads are this node's listeners of each live station.
func (n *Node) localLoads() map[string]load {
	out := map[string]load{}
	for _, slug := range n.Relay.Live() {
		d, ok := n.Relay.LocalDemand(slug)
		if !ok {
			continue
		}
		l := load{MP3: d.MP3, Ogg: d.Ogg, Opus: d.Opus, HTTP: d.Counts.HTTP, WebRTC: d.Counts.WebRTC}
		if l != (load{}) {
			out[slug] = l
		}
	}
	return out
}

func (n *Node) sendHeartbeat() {
	n.publishJSON(subjNodes, heartbeat{Node: n.Name, Role: n.Role, Stations: n.localLoads()})
}

func (n *Node) onHeartbeat(m *nats.Msg) {
	var h heartbeat
	if !n.decode(m, &h) {
		return
	}
	if err := h.check(); err != nil {
		n.drop(err)
		return
	}
	n.refresh(n.table.update(&h, time.Now()))
}

// publishJSON publishes v; a failure (NATS down) is counted, not
// returned: the callers are clocks and loops that carry on.
func (n *Node) publishJSON(subj string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		n.log.Error("encode message", "subject", subj, "err", err)
		return
	}
	n.publish(subj, b)
}

func (n *Node) publish(subj string, b []byte) {
	if n.nc == nil {
		return // not started yet
	}
	if err := n.nc.Publish(subj, b); err != nil {
		n.stats.dropped.Add(1)
		return
	}
	n.stats.published.Add(1)
	n.stats.bytesOut.Add(int64(len(b)))
}

// decode reads a peer's JSON message, counting what is bad.
func (n *Node) decode(m *nats.Msg, v any) bool {
	n.stats.received.Add(1)
	n.stats.bytesIn.Add(int64(len(m.Data)))
	if len(m.Data) > maxPayload {
		n.drop(ErrBadMessage)
		return false
	}
	if err := json.Unmarshal(m.Data, v); err != nil {
		n.drop(err)
		return false
	}
	return true
}

func (n *Node) drop(err error) {
	n.stats.dropped.Add(1)
	n.log.Debug("dropped a message", "err", err)
}

// stationOf returns the station of a subject onair.SLUG.KIND.
func stationOf(subj string) (string, bool) {
	parts := strings.Split(subj, ".")
	if len(parts) != 3 || !slugRE.MatchString(parts[1]) {
		return "", false
	}
	return parts[1], true
}

// Chat hands a chat:message frame a client of this node sent to the other
// nodes (signalling's Mirror).
func (n *Node) Chat(slug string, frame []byte) {
	n.publishJSON(stationSubject(slug, kindChat), chatMsg{Node: n.Name, Frame: frame})
}

// ChatID is a chat message ID unique over the cluster (signalling's
// Mirror): the sequence number JetStream gives a message on a stream that
// keeps only the last. One server orders every node's requests, so IDs
// also grow in the order they were given; the stream is on disk, so they
// go on growing after a restart of the NATS server.
func (n *Node) ChatID(ctx context.Context) (int64, error) {
	if err := n.chatIDs(ctx); err != nil {
		return 0, fmt.Errorf("cluster: chat ids: %w", err)
	}
	ack, err := n.js.Publish(ctx, subjChatID, nil)
	if err != nil {
		return 0, fmt.Errorf("cluster: chat id: %w", err)
	}
	if ack.Sequence == 0 || ack.Sequence > maxChatID {
		return 0, fmt.Errorf("%w: chat id %d", ErrBadMessage, ack.Sequence)
	}
	return int64(ack.Sequence), nil
}

// maxChatID keeps IDs exact in JavaScript numbers (2^53 - 1).
const maxChatID = 1<<53 - 1

// chatIDs makes the stream of ChatID once; a failure (NATS down) is not
// kept, and the next message tries again.
func (n *Node) chatIDs(ctx context.Context) error {
	n.objMu.Lock()
	defer n.objMu.Unlock()
	if n.chatStream {
		return nil
	}
	_, err := n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        "onair-chat-ids",
		Description: "chat message IDs: the sequence is the ID, only the last message is kept",
		Subjects:    []string{subjChatID},
		MaxMsgs:     1,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return err
	}
	n.chatStream = true
	return nil
}

// Likes hands a like count this node learned to the other nodes.
func (n *Node) Likes(slug string, count int64) {
	n.publishJSON(stationSubject(slug, kindLikes), likesMsg{Node: n.Name, Count: count})
}

func (n *Node) onChat(m *nats.Msg) {
	slug, ok := stationOf(m.Subject)
	var c chatMsg
	if !ok || !n.decode(m, &c) {
		return
	}
	if c.Node == n.Name || n.Hub == nil {
		return
	}
	if err := n.Hub.DeliverChat(slug, c.Frame); err != nil {
		n.drop(err)
	}
}

func (n *Node) onLikes(m *nats.Msg) {
	slug, ok := stationOf(m.Subject)
	var l likesMsg
	if !ok || !n.decode(m, &l) {
		return
	}
	if l.Node == n.Name || n.Hub == nil || l.Count < 0 {
		return
	}
	n.Hub.DeliverLikes(slug, l.Count)
}

// objects is the object store that carries bodies too large for one
// message.
func (n *Node) objects(ctx context.Context) (jetstream.ObjectStore, error) {
	n.objMu.Lock()
	defer n.objMu.Unlock()
	if n.obs != nil {
		return n.obs, nil
	}
	// A failure (NATS down) is not kept: the next body tries again.
	obs, err := n.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      "onair-bodies",
		Description: "request and response bodies too large for one message",
		TTL:         10 * time.Minute,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, err
	}
	n.obs = obs
	return obs, nil
}

// spawn runs fn on a goroutine the node waits for at Close, unless the
// node is closing: NATS callbacks call it, and may still fire while Close
// waits.
func (n *Node) spawn(fn func()) bool {
	n.closeMu.RLock()
	defer n.closeMu.RUnlock()
	if n.closing {
		return false
	}
	n.wg.Go(fn)
	return true
}

// EndSession tells every node to close the sockets of a session that
// ended on the origin (web's session ender, beside the origin's hub).
func (n *Node) EndSession(token string) {
	if token != "" {
		n.publishJSON(subjSessions, sessionEndMsg{Node: n.Name, Token: token})
	}
}

// EndUser tells every node to close a user's sockets but those on
// keepToken.
func (n *Node) EndUser(id int64, keepToken string) {
	n.publishJSON(subjSessions, sessionEndMsg{Node: n.Name, UserID: id, Keep: keepToken})
}

func (n *Node) onSessionEnd(m *nats.Msg) {
	var e sessionEndMsg
	if !n.decode(m, &e) || e.Node == n.Name || n.Hub == nil {
		return
	}
	switch {
	case e.Token != "":
		n.Hub.EndSession(e.Token)
	case e.UserID > 0:
		n.Hub.EndUser(e.UserID, e.Keep)
	default:
		n.drop(ErrBadMessage)
	}
}
