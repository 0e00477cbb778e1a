package signalling

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
)

// Fakes of the hub's own interfaces, as structs of functions.

type fakeAuth func(ctx context.Context, token string) (*onair.User, error)

func (f fakeAuth) UserByToken(ctx context.Context, token string) (*onair.User, error) {
	return f(ctx, token)
}

type fakeControl struct {
	start func(u *onair.User, slug string, track int64) error
	stop  func(u *onair.User, slug string) error
	meta  func(u *onair.User, slug string, md onair.MetadataUpdate) error
}

func (f fakeControl) StartStation(_ context.Context, u *onair.User, slug string, track int64) error {
	return f.start(u, slug, track)
}

func (f fakeControl) StopStation(_ context.Context, u *onair.User, slug string) error {
	return f.stop(u, slug)
}

func (f fakeControl) UpdateMetadata(_ context.Context, u *onair.User, slug string, md onair.MetadataUpdate) error {
	return f.meta(u, slug, md)
}

type fakeStations func(ctx context.Context, slug string) (onair.StationStatus, error)

func (f fakeStations) StationState(ctx context.Context, slug string) (onair.StationStatus, error) {
	return f(ctx, slug)
}

type fakePeers func(ctx context.Context, station string, onCandidate func(onair.ICECandidate), onClose func()) (Peer, error)

func (f fakePeers) NewPeer(ctx context.Context, station string, onCandidate func(onair.ICECandidate), onClose func()) (Peer, error) {
	return f(ctx, station, onCandidate, onClose)
}

type fakePeer struct {
	answer       func(sdp string) (string, error)
	addCandidate func(c onair.ICECandidate) error
	close        func() error
}

func (f fakePeer) Answer(sdp string) (string, error)       { return f.answer(sdp) }
func (f fakePeer) AddCandidate(c onair.ICECandidate) error { return f.addCandidate(c) }
func (f fakePeer) Close() error                            { return f.close() }

type fakeLikes struct {
	add func(slug string) (int64, error)
	get func(slug string) (int64, error)
}

func (f fakeLikes) AddLike(_ context.Context, slug string) (int64, error) { return f.add(slug) }
func (f fakeLikes) Likes(_ context.Context, slug string) (int64, error)   { return f.get(slug) }

// The default world of a test hub.

var (
	alice   = &onair.User{ID: 1, Username: "alice", Role: onair.RoleListener}
	olivia  = &onair.User{ID: 2, Username: "olivia", Role: onair.RoleOwner}
	tokens  = map[string]*onair.User{"alice-token": alice, "olivia-token": olivia}
	t0      = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	nowLive = &onair.NowPlaying{
		TrackID: 7, Title: "Tone", Artist: "Oscillator", Album: "Sines", Show: "Morning",
		Duration: 8 * time.Second, StartedAt: t0,
	}
)

func defaultAuth() fakeAuth {
	return func(_ context.Context, token string) (*onair.User, error) {
		if u, ok := tokens[token]; ok {
			return u, nil
		}
		return nil, onair.Errorf(onair.EUnauthorized, "no session")
	}
}

// defaultStations knows "live" (playing nowLive, 3+2 listeners) and "off".
func defaultStations() fakeStations {
	return func(_ context.Context, slug string) (onair.StationStatus, error) {
		switch slug {
		case "live":
			return onair.StationStatus{Live: true, NowPlaying: nowLive, Listeners: onair.Listeners{HTTP: 3, WebRTC: 2}}, nil
		case "off":
			return onair.StationStatus{}, nil
		}
		return onair.StationStatus{}, onair.Errorf(onair.ENotFound, "station %q not found", slug)
	}
}

type likeStore struct {
	mu sync.Mutex
	n  map[string]int64
}

func (l *likeStore) fake() fakeLikes {
	return fakeLikes{
		add: func(slug string) (int64, error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.n[slug]++
			return l.n[slug], nil
		},
		get: func(slug string) (int64, error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.n[slug], nil
		},
	}
}

type testEnv struct {
	hub *Hub
	srv *httptest.Server
	url string
}

// newEnv starts a hub with the default fakes, after configure has had its
// say, on an httptest server on 127.0.0.1.
func newEnv(t testing.TB, configure func(h *Hub)) *testEnv {
	t.Helper()
	h := &Hub{
		Auth:     defaultAuth(),
		Stations: defaultStations(),
		Likes:    (&likeStore{n: map[string]int64{"live": 41}}).fake(),
		Control: fakeControl{
			start: func(*onair.User, string, int64) error { return nil },
			stop:  func(*onair.User, string) error { return nil },
			meta:  func(*onair.User, string, onair.MetadataUpdate) error { return nil },
		},
		Peers: fakePeers(func(context.Context, string, func(onair.ICECandidate), func()) (Peer, error) {
			return nil, errors.New("no peers in this test")
		}),
	}
	if configure != nil {
		configure(h)
	}
	if err := h.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = h.Close()
		srv.Close()
	})
	return &testEnv{hub: h, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"}
}

type client struct {
	t  testing.TB
	ws *websocket.Conn
}

// msg is one server message as a client sees it.
type msg struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Ref   string          `json:"ref"`
}

func (m msg) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("%s data %s: %v", m.Event, m.Data, err)
	}
}

func (m msg) fields(t testing.TB) map[string]any {
	t.Helper()
	var f map[string]any
	m.decode(t, &f)
	return f
}

func (e *testEnv) dial(t testing.TB, hdr http.Header) *client {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.url, hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (e *testEnv) dialAs(t testing.TB, token string) *client {
	return e.dial(t, http.Header{"Authorization": {"Bearer " + token}})
}

func (c *client) send(event string, data any, ref string) {
	c.t.Helper()
	m := map[string]any{"event": event, "data": data}
	if ref != "" {
		m["ref"] = ref
	}
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.TextMessage, b)
}

func (c *client) sendRaw(mt int, b []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(mt, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads the next message; the deadline only stops a broken test
// from hanging.
func (c *client) next() msg {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	mt, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if mt != websocket.TextMessage {
		c.t.Fatalf("message type %d, want text", mt)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("server sent bad JSON %q: %v", b, err)
	}
	return m
}

// expect reads the next message and checks its event.
func (c *client) expect(event string) msg {
	c.t.Helper()
	m := c.next()
	if m.Event != event {
		c.t.Fatalf("got %s %s, want %s", m.Event, m.Data, event)
	}
	return m
}

// expectError reads the next message and checks it is an error with code
// and the echoed ref.
func (c *client) expectError(code onair.Code, ref string) errorMsg {
	c.t.Helper()
	m := c.expect(evError)
	var e errorMsg
	m.decode(c.t, &e)
	if e.Code != code || e.Ref != ref || m.Ref != ref || e.Message == "" {
		c.t.Fatalf("error %s (envelope ref %q), want code %s ref %q", m.Data, m.Ref, code, ref)
	}
	return e
}

// roundTrip sends a request that is acknowledged and waits for the ack,
// so that every message queued to this client before it has arrived.
func (c *client) roundTrip(ref string) {
	c.t.Helper()
	c.send(evLeave, map[string]string{"station": "nowhere"}, ref)
	m := c.expect(evAck)
	if m.Ref != ref {
		c.t.Fatalf("ack ref %q, want %q", m.Ref, ref)
	}
}

// joinLive joins the "live" station and reads its whole welcome.
func (c *client) join(station string) {
	c.t.Helper()
	c.send(evJoin, map[string]string{"station": station}, "")
	for {
		if m := c.next(); m.Event == evCount {
			return
		}
	}
}

// expectClosed reads until the server closes the socket and returns the
// close code (-1 when the socket just broke).
func (c *client) expectClosed() int {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("socket still open: %v", err)
		}
		return -1
	}
}
