package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/onairfm/onair/relay"
)

// edgeState is what only an edge keeps: the feeds of its replicas.
type edgeState struct {
	msgs chan *nats.Msg // events and state, in the order they came
	// heard is when the origin was last heard of (unix ns): an origin
	// silent for longer than originSilence has no live stations.
	heard atomic.Int64
	// originURL is the origin's public URL as it last said.
	originURL atomic.Pointer[string]

	mu     sync.Mutex
	feeds  map[string]*stationFeed
	tokens tokens
}

// stationFeed is what an edge takes of one replica station.
type stationFeed struct {
	slug  string
	epoch int64 // the origin's start of the station, unix ns
	mount [2]*mountFeed
	opus  *packetFeed
}

// mountFeed takes an HTTP mount's chunks while the edge has a listener of
// it. When the first comes, the recent chunks are asked of the origin, so
// the listener gets a burst as it would there; live chunks that arrive
// meanwhile wait, and sequence numbers weed out the overlap.
type mountFeed struct {
	n    *Node
	slug string
	out  relay.Output

	mu       sync.Mutex
	epoch    int64
	sub      *nats.Subscription
	bursting bool
	pending  []relay.Chunk
	last     uint64
	started  bool
}

// packetFeed takes the Opus packets of a station while the edge has a
// WebRTC peer.
type packetFeed struct {
	mu    sync.Mutex
	sub   *nats.Subscription
	last  int64
	begun bool
}

// maxPending bounds the live chunks held while a burst is asked for.
const maxPending = 32

func (n *Node) startEdge() error {
	e := &edgeState{msgs: make(chan *nats.Msg, 256), feeds: map[string]*stationFeed{}}
	e.tokens.init()
	n.edge = e
	n.Relay.OnDemand = n.markDirty
	if _, err := n.nc.ChanSubscribe("onair.*."+kindEvents, e.msgs); err != nil {
		return err
	}
	if _, err := n.nc.ChanSubscribe(subjState, e.msgs); err != nil {
		return err
	}
	n.wg.Go(n.followOrigin)
	n.syncState()
	return nil
}

// followOrigin applies the origin's events and state in order.
func (n *Node) followOrigin() {
	for {
		select {
		case <-n.ctx.Done():
			return
		case m := <-n.edge.msgs:
			// Any word from the origin shows it is there.
			n.edge.heard.Store(time.Now().UnixNano())
			if m.Subject == subjState {
				var st stateMsg
				if n.decode(m, &st) {
					n.reconcile(&st)
				}
				continue
			}
			slug, ok := stationOf(m.Subject)
			var ev eventMsg
			if !ok || !n.decode(m, &ev) {
				continue
			}
			n.eventDelay.add(ev.SentAt.UnixNano(), time.Now())
			n.applyEvent(slug, &ev)
		}
	}
}

// syncState asks the origin for its live stations, at start and after an
// outage.
func (n *Node) syncState() {
	var st stateMsg
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	if err := n.request(ctx, rpcState, struct{}{}, &st); err != nil {
		n.log.Warn("could not get the origin's stations; waiting for its next state", "err", err)
		return
	}
	n.reconcile(&st)
}

// reconcile makes the replicas match the origin's live stations.
func (n *Node) reconcile(st *stateMsg) {
	n.edge.heard.Store(time.Now().UnixNano())
	u := st.publicURL()
	n.edge.originURL.Store(&u)
	if len(st.Stations) > maxStations {
		n.drop(ErrBadMessage)
		return
	}
	live := map[string]bool{}
	for i := range st.Stations {
		sm := &st.Stations[i]
		if err := sm.check(); err != nil {
			n.drop(err)
			continue
		}
		live[sm.Slug] = true
		n.ensureReplica(sm)
	}
	for _, slug := range n.Relay.Live() {
		if !live[slug] {
			n.stopReplica(slug)
		}
	}
}

// OriginURL is the origin's http.public_url as it last told this edge;
// "" when it has none or has not been heard from (or on the origin).
func (n *Node) OriginURL() string {
	if n.edge == nil {
		return ""
	}
	if u := n.edge.originURL.Load(); u != nil {
		return *u
	}
	return ""
}

// ensureReplica starts a replica of sm, or brings one up to date; a
// replica of an earlier run of the station is replaced.
func (n *Node) ensureReplica(sm *stationMsg) {
	e := n.edge
	e.mu.Lock()
	f := e.feeds[sm.Slug]
	e.mu.Unlock()
	st := n.Relay.Status(sm.Slug)
	if st.Live && f != nil && f.epoch != sm.StartedAt.UnixNano() {
		n.stopReplica(sm.Slug)
		st.Live = false
	}
	if !st.Live {
		if err := n.Relay.StartReplica(sm.replica()); err != nil {
			n.log.Warn("could not start a replica", "station", sm.Slug, "err", err)
			return
		}
		e.mu.Lock()
		e.feeds[sm.Slug] = n.newStationFeed(sm.Slug, sm.StartedAt.UnixNano())
		e.mu.Unlock()
		n.log.Info("replica on air", "station", sm.Slug)
		return
	}
	if !samePlaying(st.NowPlaying, sm.NowPlaying) {
		_ = n.Relay.SetReplicaPlaying(sm.Slug, sm.NowPlaying)
	}
}

func (n *Node) newStationFeed(slug string, epoch int64) *stationFeed {
	f := &stationFeed{slug: slug, epoch: epoch, opus: &packetFeed{}}
	for i := range f.mount {
		f.mount[i] = &mountFeed{n: n, slug: slug, out: relay.Output(i), epoch: epoch}
	}
	return f
}

// stopReplica takes a replica off air and stops its feeds.
func (n *Node) stopReplica(slug string) {
	e := n.edge
	e.mu.Lock()
	f := e.feeds[slug]
	delete(e.feeds, slug)
	e.mu.Unlock()
	if f != nil {
		f.stop()
	}
	if err := n.Relay.Stop(slug); err == nil {
		n.log.Info("replica off air", "station", slug)
	}
}

// originSilence is how long an edge waits for the origin's state (sent
// every heartbeat, 2 s by default) before it takes its replicas off air:
// the origin is gone, and listeners must not wait for audio that will not
// come.
func (n *Node) originSilence() time.Duration { return 3 * max(n.heartbeat(), 2*time.Second) }

// checkOrigin drops the replicas of an origin that fell silent.
func (n *Node) checkOrigin(now time.Time) {
	heard := time.Unix(0, n.edge.heard.Load())
	if now.Sub(heard) <= n.originSilence() || len(n.Relay.Live()) == 0 {
		return
	}
	n.log.Warn("the origin has been silent; closing this node's listeners", "since", heard)
	for _, slug := range n.Relay.Live() {
		n.stopReplica(slug)
	}
}

// dropReplicas ends every replica: the edge has been cut off from the
// origin for longer than its listeners' patience.
func (n *Node) dropReplicas() {
	n.log.Warn("cut off from NATS; closing this node's listeners")
	for _, slug := range n.Relay.Live() {
		n.stopReplica(slug)
	}
}

func (n *Node) applyEvent(slug string, ev *eventMsg) {
	switch ev.Kind {
	case "started":
		if ev.Station == nil || ev.Station.Slug != slug {
			n.drop(ErrBadMessage)
			return
		}
		if err := ev.Station.check(); err != nil {
			n.drop(err)
			return
		}
		n.ensureReplica(ev.Station)
	case "stopped":
		n.stopReplica(slug)
	case "metadata":
		sm := stationMsg{Slug: slug, StartedAt: time.Unix(0, 1), NowPlaying: ev.NowPlaying}
		if err := sm.check(); err != nil {
			n.drop(err)
			return
		}
		_ = n.Relay.SetReplicaPlaying(slug, ev.NowPlaying)
	case "source":
		_ = n.Relay.SetReplicaSource(slug, ev.Source)
	default:
		n.drop(fmt.Errorf("%w: event %q", ErrBadMessage, ev.Kind))
	}
}

// followDemand subscribes to the outputs this edge's listeners want, and
// leaves those they no longer do.
func (n *Node) followDemand() {
	e := n.edge
	for _, slug := range n.Relay.Live() {
		d, ok := n.Relay.LocalDemand(slug)
		e.mu.Lock()
		f := e.feeds[slug]
		e.mu.Unlock()
		if !ok || f == nil {
			continue
		}
		for i, want := range []bool{d.MP3 > 0, d.Ogg > 0} {
			if want {
				f.mount[i].start()
			} else {
				f.mount[i].stop()
			}
		}
		if d.Opus {
			n.startPackets(f)
		} else {
			f.opus.stop()
		}
	}
}

func (f *stationFeed) stop() {
	for _, m := range f.mount {
		m.stop()
	}
	f.opus.stop()
}

func (m *mountFeed) start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sub != nil {
		return
	}
	sub, err := m.n.nc.Subscribe(stationSubject(m.slug, outputKind(m.out)), m.onChunk)
	if err != nil {
		m.n.log.Warn("could not follow a mount", "station", m.slug, "output", m.out, "err", err)
		return
	}
	m.sub, m.bursting, m.pending, m.started = sub, true, nil, false
	if !m.n.spawn(m.burst) {
		m.bursting = false
	}
}

func (m *mountFeed) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sub != nil {
		_ = m.sub.Unsubscribe()
		m.sub, m.bursting, m.pending = nil, false, nil
	}
}

// burst asks the origin for the mount's recent chunks, feeds them, then
// the live chunks that came meanwhile.
func (m *mountFeed) burst() {
	ctx, cancel := context.WithTimeout(m.n.ctx, 3*time.Second)
	defer cancel()
	var reply burstReply
	err := m.n.request(ctx, rpcBurst, burstReq{Station: m.slug, Output: outputKind(m.out)}, &reply)
	if err != nil {
		m.n.log.Debug("no burst from the origin", "station", m.slug, "err", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.bursting {
		return
	}
	if len(reply.Chunks) <= maxBurstChunk {
		for i := range reply.Chunks {
			cm := &reply.Chunks[i]
			if cm.Epoch != m.epoch {
				m.n.drop(ErrBadMessage)
				continue
			}
			c, err := cm.chunk()
			if err != nil {
				m.n.drop(err)
				continue
			}
			m.acceptLocked(c)
		}
	}
	for _, c := range m.pending {
		m.acceptLocked(c)
	}
	m.pending, m.bursting = nil, false
}

func (m *mountFeed) onChunk(msg *nats.Msg) {
	m.n.stats.received.Add(1)
	m.n.stats.bytesIn.Add(int64(len(msg.Data)))
	cm, err := unmarshalChunk(msg.Data)
	if err != nil {
		m.n.drop(err)
		return
	}
	c, err := cm.chunk()
	if err != nil {
		m.n.drop(err)
		return
	}
	m.n.audioDelay.add(cm.Sent, time.Now())
	m.mu.Lock()
	defer m.mu.Unlock()
	if cm.Epoch != m.epoch {
		m.n.drop(fmt.Errorf("%w: chunk of another run of %s", ErrBadMessage, m.slug))
		return
	}
	if m.sub == nil {
		return
	}
	if m.bursting {
		if len(m.pending) == maxPending {
			m.pending = m.pending[1:]
		}
		m.pending = append(m.pending, c)
		return
	}
	m.acceptLocked(c)
}

// acceptLocked feeds c unless it is not newer than the last fed.
func (m *mountFeed) acceptLocked(c relay.Chunk) {
	if m.started && c.Seq <= m.last {
		if c.Seq < m.last {
			m.n.drop(fmt.Errorf("%w: chunk %d after %d", ErrBadMessage, c.Seq, m.last))
		}
		return
	}
	if err := m.n.Relay.Feed(m.slug, m.out, c); err != nil {
		m.n.drop(err)
		return
	}
	m.last, m.started = c.Seq, true
}

func (n *Node) startPackets(f *stationFeed) {
	p := f.opus
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sub != nil {
		return
	}
	slug, epoch := f.slug, f.epoch
	sub, err := n.nc.Subscribe(stationSubject(slug, outputKind(relay.OutputOpus)), func(msg *nats.Msg) {
		n.stats.received.Add(1)
		n.stats.bytesIn.Add(int64(len(msg.Data)))
		pm, err := unmarshalPacket(msg.Data)
		if err == nil {
			err = pm.check()
		}
		if err != nil {
			n.drop(err)
			return
		}
		n.opusDelay.add(pm.Sent, time.Now())
		p.mu.Lock()
		ok := pm.Epoch == epoch && (!p.begun || pm.At48 > p.last)
		if ok {
			p.last, p.begun = pm.At48, true
		}
		p.mu.Unlock()
		if !ok {
			n.drop(fmt.Errorf("%w: opus packet out of order", ErrBadMessage))
			return
		}
		if err := n.Relay.FeedPacket(slug, pm.Data, time.Duration(pm.Dur)); err != nil {
			n.drop(err)
		}
	})
	if err != nil {
		n.log.Warn("could not follow the WebRTC track", "station", slug, "err", err)
		return
	}
	p.sub, p.begun = sub, false
}

func (p *packetFeed) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sub != nil {
		_ = p.sub.Unsubscribe()
		p.sub = nil
	}
}

// request asks the origin and decodes its answer into reply.
func (n *Node) request(ctx context.Context, subj string, req, reply any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	n.stats.published.Add(1)
	n.stats.bytesOut.Add(int64(len(b)))
	m, err := n.nc.RequestWithContext(ctx, subj, b)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("%w: %s: %w", ErrNoOrigin, subj, err)
		}
		return fmt.Errorf("cluster: %s: %w", subj, err)
	}
	if !n.decode(m, reply) {
		return fmt.Errorf("%w: answer to %s", ErrBadMessage, subj)
	}
	return nil
}
