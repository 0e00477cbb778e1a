package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

// Services are what an origin answers edges with: the same services its
// own HTTP and WebSocket clients use.
type Services struct {
	Auth interface {
		UserByToken(ctx context.Context, token string) (*onair.User, error)
	}
	Control interface {
		StartStation(ctx context.Context, u *onair.User, slug string, trackID int64) error
		StopStation(ctx context.Context, u *onair.User, slug string) error
		UpdateMetadata(ctx context.Context, u *onair.User, slug string, md onair.MetadataUpdate) error
	}
	States interface {
		StationState(ctx context.Context, slug string) (onair.StationStatus, error)
	}
	Likes interface {
		AddLike(ctx context.Context, slug string) (int64, error)
		Likes(ctx context.Context, slug string) (int64, error)
	}
	// HTTP is the origin's whole HTTP handler: forwarded requests are
	// served by it as if they came in directly.
	HTTP http.Handler
	// Audience records the edges' listening sessions and engagement
	// (the statistics recorder); nil drops them.
	Audience interface {
		Session(ls onair.ListenSession)
		Engagement(station, kind string)
	}
}

// originState is what only an origin keeps.
type originState struct {
	events chan onair.Event

	mu     sync.Mutex
	epochs map[string]int64 // live station → its start, unix ns

	sessions remoteSessions
}

// Publish takes a station event from the relay (it is one of the relay's
// publishers). It never blocks: the event is published by the node's own
// goroutine.
func (n *Node) Publish(ev onair.Event) {
	n.init()
	o := n.origin
	if o == nil || ev.Kind == onair.EventListeners {
		return
	}
	select {
	case o.events <- ev:
	default:
		n.stats.dropped.Add(1)
		n.log.Warn("station event not sent to the cluster: too many waiting", "station", ev.Station)
	}
}

// Tap is what the relay hands every chunk and packet to.
func (n *Node) Tap() relay.Tap {
	n.init()
	return (*tap)(n)
}

type tap Node

// Chunk publishes a mount's chunk when another node has a listener of it.
func (t *tap) Chunk(slug string, out relay.Output, c relay.Chunk) {
	n := (*Node)(t)
	if !n.table.Wants(slug, out) {
		return
	}
	cm := newChunkMsg(n.epoch(slug), c)
	n.publish(stationSubject(slug, outputKind(out)), cm.marshal())
}

// Packet publishes an Opus packet when another node has a WebRTC peer.
func (t *tap) Packet(slug string, pkt []byte, at48 int64, dur time.Duration) {
	n := (*Node)(t)
	if !n.table.Wants(slug, relay.OutputOpus) {
		return
	}
	pm := packetMsg{Epoch: n.epoch(slug), Sent: time.Now().UnixNano(), At48: at48, Dur: int64(dur), Data: pkt}
	n.publish(stationSubject(slug, outputKind(relay.OutputOpus)), pm.marshal())
}

// epoch is the station's start: chunks of an earlier run of the station
// are told apart by it.
func (n *Node) epoch(slug string) int64 {
	o := n.origin
	o.mu.Lock()
	e, ok := o.epochs[slug]
	o.mu.Unlock()
	if ok {
		return e
	}
	st := n.Relay.Status(slug)
	if !st.Live {
		return 0
	}
	e = st.StartedAt.UnixNano()
	o.mu.Lock()
	o.epochs[slug] = e
	o.mu.Unlock()
	return e
}

func (n *Node) startOrigin() error {
	rpcs := []struct {
		subj string
		fn   func(ctx context.Context, data []byte) any
	}{
		{rpcState, func(context.Context, []byte) any { return n.stateMsg() }},
		{rpcBurst, n.serveBurst},
		{rpcAuth, n.serveAuth},
		{rpcCtl, n.serveControl},
		{rpcJoin, n.serveJoin},
		{rpcLike, n.serveLike},
		{rpcLikes, n.serveLikes},
		{rpcHTTP, n.serveHTTP},
	}
	for _, r := range rpcs {
		if err := n.serve(r.subj, r.fn); err != nil {
			return err
		}
	}
	if _, err := n.nc.Subscribe(subjAudience, n.onAudience); err != nil {
		return err
	}
	n.wg.Go(n.publishEvents)
	return nil
}

// serve answers requests on subj, each on its own goroutine (an upload
// must not hold up a login), at most cap(n.sem) at once.
func (n *Node) serve(subj string, fn func(ctx context.Context, data []byte) any) error {
	_, err := n.nc.QueueSubscribe(subj, "origin", func(m *nats.Msg) {
		n.stats.received.Add(1)
		n.stats.bytesIn.Add(int64(len(m.Data)))
		select {
		case n.sem <- struct{}{}:
		default:
			n.respond(m, errReply{Error: &rpcError{Code: onair.ERateLimited, Message: "the origin is busy"}})
			return
		}
		if !n.spawn(func() {
			defer func() { <-n.sem }()
			ctx, cancel := context.WithTimeout(n.ctx, 2*time.Minute)
			defer cancel()
			n.respond(m, fn(ctx, m.Data))
		}) {
			<-n.sem
		}
	})
	return err
}

func (n *Node) respond(m *nats.Msg, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		n.log.Error("encode reply", "subject", m.Subject, "err", err)
		return
	}
	if err := m.Respond(b); err == nil {
		n.stats.published.Add(1)
		n.stats.bytesOut.Add(int64(len(b)))
	}
}

// publishEvents sends the relay's station events to every node.
func (n *Node) publishEvents() {
	o := n.origin
	for {
		select {
		case <-n.ctx.Done():
			return
		case ev := <-o.events:
			msg := eventMsg{SentAt: time.Now()}
			switch ev.Kind {
			case onair.EventStarted:
				msg.Kind = "started"
				o.mu.Lock()
				o.epochs[ev.Station] = ev.StartedAt.UnixNano()
				o.mu.Unlock()
				st, ok := n.stationMsg(ev.Station)
				if !ok {
					continue
				}
				msg.Station = &st
			case onair.EventStopped:
				msg.Kind = "stopped"
				o.mu.Lock()
				delete(o.epochs, ev.Station)
				o.mu.Unlock()
			case onair.EventMetadata:
				msg.Kind, msg.NowPlaying = "metadata", ev.NowPlaying
			case onair.EventSource:
				msg.Kind, msg.Source = "source", ev.Source
			default:
				continue
			}
			n.publishJSON(stationSubject(ev.Station, kindEvents), msg)
		}
	}
}

// stationMsg is a live station as edges need it.
func (n *Node) stationMsg(slug string) (stationMsg, bool) {
	info, ok := n.Relay.Info(slug)
	st := n.Relay.Status(slug)
	if !ok || !st.Live {
		return stationMsg{}, false
	}
	return stationMsg{
		Slug: slug, Name: info.Name, Description: info.Description, Genre: info.Genre, Show: info.Show,
		MP3Bitrate: info.Audio.MP3Bitrate, SampleRate: info.Audio.SampleRate,
		StartedAt: st.StartedAt, NowPlaying: st.NowPlaying, Source: st.Source,
	}, true
}

func (n *Node) stateMsg() stateMsg {
	out := stateMsg{Node: n.Name, Stations: []stationMsg{}, PublicURL: n.PublicURL}
	for _, slug := range n.Relay.Live() {
		if st, ok := n.stationMsg(slug); ok {
			out.Stations = append(out.Stations, st)
		}
	}
	return out
}

// publishState tells edges which stations are live, so that one that
// missed an event (it was cut off) catches up.
func (n *Node) publishState() { n.publishJSON(subjState, n.stateMsg()) }

func (n *Node) serveBurst(_ context.Context, data []byte) any {
	var req burstReq
	if json.Unmarshal(data, &req) != nil {
		return burstReply{}
	}
	var out relay.Output
	switch req.Output {
	case "mp3":
		out = relay.OutputMP3
	case "ogg":
		out = relay.OutputOgg
	default:
		return burstReply{}
	}
	e := n.epoch(req.Station)
	var reply burstReply
	for _, c := range n.Relay.Recent(req.Station, out) {
		reply.Chunks = append(reply.Chunks, newChunkMsg(e, c))
	}
	return reply
}

// user authenticates forwarded credentials: the origin never takes a
// peer's word for who a user is.
func (n *Node) user(ctx context.Context, token string) (*onair.User, error) {
	if n.Origin.Auth == nil {
		return nil, onair.Errorf(onair.EInternal, "no authenticator")
	}
	if token == "" {
		return nil, onair.Errorf(onair.EUnauthorized, "log in first")
	}
	return n.Origin.Auth.UserByToken(ctx, token)
}

func (n *Node) serveAuth(ctx context.Context, data []byte) any {
	var req authReq
	if err := json.Unmarshal(data, &req); err != nil {
		return userReply{Error: toRPCError(onair.Errorf(onair.EInvalid, "bad request"))}
	}
	u, err := n.user(ctx, req.Token)
	if err != nil {
		return userReply{Error: toRPCError(err)}
	}
	return userReply{User: u}
}

func (n *Node) serveControl(ctx context.Context, data []byte) any {
	var req controlReq
	if err := json.Unmarshal(data, &req); err != nil {
		return errReply{Error: toRPCError(onair.Errorf(onair.EInvalid, "bad request"))}
	}
	u, err := n.user(ctx, req.Token)
	if err != nil {
		return errReply{Error: toRPCError(err)}
	}
	c := n.Origin.Control
	if c == nil {
		return errReply{Error: toRPCError(onair.Errorf(onair.EInternal, "no controller"))}
	}
	switch req.Op {
	case "start":
		err = c.StartStation(ctx, u, req.Station, req.TrackID)
	case "stop":
		err = c.StopStation(ctx, u, req.Station)
	case "metadata":
		if req.Metadata == nil {
			err = onair.Errorf(onair.EInvalid, "no metadata")
		} else {
			err = c.UpdateMetadata(ctx, u, req.Station, *req.Metadata)
		}
	default:
		err = onair.Errorf(onair.EInvalid, "unknown operation %q", req.Op)
	}
	return errReply{Error: toRPCError(err)}
}

func (n *Node) serveJoin(ctx context.Context, data []byte) any {
	var req stationReq
	if err := json.Unmarshal(data, &req); err != nil || n.Origin.States == nil {
		return joinReply{Error: toRPCError(onair.Errorf(onair.EInvalid, "bad request"))}
	}
	st, err := n.Origin.States.StationState(ctx, req.Station)
	if err != nil {
		return joinReply{Error: toRPCError(err)}
	}
	return joinReply{Live: st.Live, StartedAt: st.StartedAt, NowPlaying: st.NowPlaying, Listeners: st.Listeners, Source: st.Source}
}

func (n *Node) serveLike(ctx context.Context, data []byte) any {
	var req stationReq
	if err := json.Unmarshal(data, &req); err != nil || n.Origin.Likes == nil {
		return likesReply{Error: toRPCError(onair.Errorf(onair.EInvalid, "bad request"))}
	}
	c, err := n.Origin.Likes.AddLike(ctx, req.Station)
	return likesReply{Count: c, Error: toRPCError(err)}
}

func (n *Node) serveLikes(ctx context.Context, data []byte) any {
	var req stationReq
	if err := json.Unmarshal(data, &req); err != nil || n.Origin.Likes == nil {
		return likesReply{Error: toRPCError(onair.Errorf(onair.EInvalid, "bad request"))}
	}
	c, err := n.Origin.Likes.Likes(ctx, req.Station)
	return likesReply{Count: c, Error: toRPCError(err)}
}
