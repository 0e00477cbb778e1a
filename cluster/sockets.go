package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/onairfm/onair"
)

// rpcTimeout bounds a socket's request to the origin.
const rpcTimeout = 10 * time.Second

// Sockets is an edge's hub services: each is asked of the origin, with the
// credentials the client gave. Use it as signalling.Hub's Auth, Control,
// Stations and Likes.
type Sockets struct{ n *Node }

// Sockets returns the edge's services for its hub.
func (n *Node) Sockets() Sockets { return Sockets{n} }

// tokens remembers the token each user value came from, so that a
// socket's control request, which names the user, can be forwarded with
// the credentials the origin checks. Bounded: past the cap it starts
// afresh, and sockets whose token is forgotten authenticate again.
type tokens struct {
	mu sync.Mutex
	m  map[*onair.User]string
}

const maxTokens = 100000

func (t *tokens) init() { t.m = map[*onair.User]string{} }

func (t *tokens) put(u *onair.User, token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxTokens {
		clear(t.m)
	}
	t.m[u] = token
}

func (t *tokens) get(u *onair.User) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[u]
}

func (s Sockets) ask(ctx context.Context, subj string, req, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	if err := s.n.request(ctx, subj, req, reply); err != nil {
		s.n.log.Warn("origin request failed", "subject", subj, "err", err)
		return onair.Errorf(onair.EInternal, "the origin is not reachable")
	}
	return nil
}

// UserByToken asks the origin who the token is.
func (s Sockets) UserByToken(ctx context.Context, token string) (*onair.User, error) {
	var r userReply
	if err := s.ask(ctx, rpcAuth, authReq{Token: token}, &r); err != nil {
		return nil, err
	}
	if err := r.Error.err(); err != nil {
		return nil, err
	}
	if r.User == nil {
		return nil, onair.Errorf(onair.EUnauthorized, "not logged in")
	}
	s.n.edge.tokens.put(r.User, token)
	return r.User, nil
}

func (s Sockets) control(ctx context.Context, u *onair.User, req controlReq) error {
	req.Token = s.n.edge.tokens.get(u)
	if u == nil || req.Token == "" {
		return onair.Errorf(onair.EUnauthorized, "log in first")
	}
	var r errReply
	if err := s.ask(ctx, rpcCtl, req, &r); err != nil {
		return err
	}
	return r.Error.err()
}

// StartStation asks the origin to start a station as u.
func (s Sockets) StartStation(ctx context.Context, u *onair.User, slug string, trackID int64) error {
	return s.control(ctx, u, controlReq{Op: "start", Station: slug, TrackID: trackID})
}

// StopStation asks the origin to stop a station as u.
func (s Sockets) StopStation(ctx context.Context, u *onair.User, slug string) error {
	return s.control(ctx, u, controlReq{Op: "stop", Station: slug})
}

// UpdateMetadata asks the origin to change a station's metadata as u.
func (s Sockets) UpdateMetadata(ctx context.Context, u *onair.User, slug string, md onair.MetadataUpdate) error {
	return s.control(ctx, u, controlReq{Op: "metadata", Station: slug, Metadata: &md})
}

// StationState asks the origin for a station's state, listeners counted
// over the cluster.
func (s Sockets) StationState(ctx context.Context, slug string) (onair.StationStatus, error) {
	var r joinReply
	if err := s.ask(ctx, rpcJoin, stationReq{Station: slug}, &r); err != nil {
		return onair.StationStatus{}, err
	}
	if err := r.Error.err(); err != nil {
		return onair.StationStatus{}, err
	}
	return onair.StationStatus{Live: r.Live, StartedAt: r.StartedAt, NowPlaying: r.NowPlaying, Listeners: r.Listeners, Source: r.Source}, nil
}

// AddLike asks the origin, which keeps the likes, to count one.
func (s Sockets) AddLike(ctx context.Context, slug string) (int64, error) {
	var r likesReply
	if err := s.ask(ctx, rpcLike, stationReq{Station: slug}, &r); err != nil {
		return 0, err
	}
	return r.Count, r.Error.err()
}

// Likes asks the origin for a station's likes.
func (s Sockets) Likes(ctx context.Context, slug string) (int64, error) {
	var r likesReply
	if err := s.ask(ctx, rpcLikes, stationReq{Station: slug}, &r); err != nil {
		return 0, err
	}
	return r.Count, r.Error.err()
}

// samePlaying reports whether two now-playing states are the same item.
func samePlaying(a, b *onair.NowPlaying) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.TrackID == b.TrackID && a.Title == b.Title && a.Artist == b.Artist && a.Show == b.Show && a.StartedAt.Equal(b.StartedAt)
}
