package signalling

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

func TestJoin(t *testing.T) {
	env := newEnv(t, nil)
	tests := []struct {
		station string
		want    []string
	}{
		{"live", []string{evLive, evMetadata, evListeners, evCount}},
		{"off", []string{evOffline, evListeners, evCount}},
	}
	for _, tt := range tests {
		t.Run(tt.station, func(t *testing.T) {
			c := env.dial(t, nil)
			c.send(evJoin, map[string]string{"station": tt.station}, "j1")
			for i, event := range tt.want {
				m := c.expect(event)
				if i == 0 && m.Ref != "j1" {
					t.Errorf("%s ref %q, want j1", event, m.Ref)
				}
				f := m.fields(t)
				if f["station"] != tt.station {
					t.Errorf("%s station %v", event, f["station"])
				}
				switch event {
				case evMetadata:
					want := map[string]any{
						"station": "live", "track_id": 7.0, "title": "Tone", "artist": "Oscillator",
						"album": "Sines", "show": "Morning", "duration_ms": 8000.0,
						"started_at": "2025-03-01T12:00:00.123Z", "source": "playlist",
					}
					for k, v := range want {
						if f[k] != v {
							t.Errorf("metadata %s = %v, want %v", k, f[k], v)
						}
					}
					if len(f) != len(want) {
						t.Errorf("metadata fields %v", f)
					}
				case evListeners:
					if tt.station == "live" && (f["count"] != 5.0 || f["http"] != 3.0 || f["webrtc"] != 2.0) {
						t.Errorf("listeners %v", f)
					}
				case evCount:
					if f["type"] != "like" {
						t.Errorf("count %v", f)
					}
					if tt.station == "live" && f["count"] != 41.0 {
						t.Errorf("count %v, want 41", f)
					}
				}
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		c := env.dial(t, nil)
		c.send(evJoin, map[string]string{"station": "nope"}, "j2")
		c.expectError(onair.ENotFound, "j2")
		c.join("off") // the socket goes on
	})
}

func TestJoinSendsRecentChat(t *testing.T) {
	env := newEnv(t, func(h *Hub) { h.Limits.ChatHistory = 3; h.Limits.ChatBurst = 10 })
	talker := env.dialAs(t, "alice-token")
	talker.join("live")
	for _, text := range []string{"one", "two", "three", "four"} {
		talker.send(evChatSend, map[string]string{"station": "live", "text": text}, "")
		talker.expect(evChat)
	}
	c := env.dial(t, nil)
	c.send(evJoin, map[string]string{"station": "live"}, "")
	for _, e := range []string{evLive, evMetadata, evListeners} {
		c.expect(e)
	}
	for _, want := range []string{"two", "three", "four"} {
		var m chatMsg
		c.expect(evChat).decode(t, &m)
		if m.Text != want {
			t.Errorf("history text %q, want %q", m.Text, want)
		}
	}
	c.expect(evCount)
}

func TestStartedReachesEveryConnection(t *testing.T) {
	env := newEnv(t, nil)
	stranger := env.dial(t, nil) // never joins a room
	member := env.dial(t, nil)
	member.join("off")
	testutil.Eventually(t, 10*time.Second, "two connections", func() bool { return env.hub.Connections() == 2 })

	env.hub.Publish(onair.Event{Kind: onair.EventStarted, Station: "off", StartedAt: t0})
	f := stranger.expect(evStarted).fields(t)
	if f["station"] != "off" || f["started_at"] != "2025-03-01T12:00:00.123Z" {
		t.Errorf("started %v", f)
	}
	member.expect(evStarted)
	if f := member.expect(evLive).fields(t); f["station"] != "off" {
		t.Errorf("live %v", f)
	}
}

func TestMetadataReachesOnlyTheRoom(t *testing.T) {
	env := newEnv(t, nil)
	member := env.dial(t, nil)
	member.join("live")
	other := env.dial(t, nil)
	other.join("off")

	np := *nowLive
	np.TrackID, np.Title, np.HasArt, np.Source = 8, "Next", true, onair.SourceJingle
	env.hub.Publish(onair.Event{Kind: onair.EventMetadata, Station: "live", NowPlaying: &np})
	var m metadataMsg
	member.expect(evMetadata).decode(t, &m)
	if m.TrackID != 8 || m.Title != "Next" || m.Station != "live" || m.Source != "jingle" || m.Art != "/api/stations/live/tracks/8/art" {
		t.Errorf("metadata %+v", m)
	}
	// The broadcast was queued to every target before the member read it,
	// so anything queued to other would come before this ack.
	other.roundTrip("r1")
}

func TestStoppedReachesAllAndOfflineTheRoom(t *testing.T) {
	env := newEnv(t, nil)
	stranger := env.dial(t, nil)
	member := env.dial(t, nil)
	member.join("live")
	testutil.Eventually(t, 10*time.Second, "two connections", func() bool { return env.hub.Connections() == 2 })

	env.hub.Publish(onair.Event{Kind: onair.EventStopped, Station: "live"})
	if f := stranger.expect(evStopped).fields(t); f["station"] != "live" || len(f) != 1 {
		t.Errorf("stopped %v", f)
	}
	stranger.roundTrip("r1") // no stream:offline outside the room
	member.expect(evStopped)
	member.expect(evOffline)
}

func TestListenersCoalesced(t *testing.T) {
	env := newEnv(t, nil)
	c := env.dial(t, nil)
	c.join("live")
	publish := func(n int) {
		env.hub.Publish(onair.Event{Kind: onair.EventListeners, Station: "live", Listeners: onair.Listeners{HTTP: n, WebRTC: 1}})
	}
	// The first count opens a window; the burst falls inside it.
	publish(0)
	c.expect(evListeners)
	for i := 1; i <= 100; i++ {
		publish(i)
		runtime.Gosched() // let the event loop see the counts one by one
	}
	var got int
	for {
		var m listenersMsg
		c.expect(evListeners).decode(t, &m)
		got++
		if m.HTTP == 100 {
			if m.Count != 101 || m.WebRTC != 1 || m.Station != "live" {
				t.Errorf("last listeners %+v", m)
			}
			break
		}
	}
	if got > 5 {
		t.Errorf("%d listener messages for 100 quick counts, want a few", got)
	}
}

func TestHubLifecycle(t *testing.T) {
	h := &Hub{Stations: defaultStations()}
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + srv.URL[len("http"):]

	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial before Start: %v %v", err, resp)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	testutil.Eventually(t, 10*time.Second, "one connection", func() bool { return h.Connections() == 1 })

	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ws: ws}
	if code := c.expectClosed(); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want %d", code, websocket.CloseGoingAway)
	}
	if n := h.Connections(); n != 0 {
		t.Errorf("%d connections after Close", n)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := h.Start(); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v %v", err, resp)
	}
}

func TestPublishNeverBlocks(t *testing.T) {
	// No event loop runs: nothing drains the mailbox.
	h := &Hub{Limits: Limits{MaxPendingEvents: 10}}
	for i := range 1000 {
		h.Publish(onair.Event{Kind: onair.EventMetadata, Station: "s", NowPlaying: &onair.NowPlaying{TrackID: int64(i)}})
		h.Publish(onair.Event{Kind: onair.EventListeners, Station: "s", Listeners: onair.Listeners{HTTP: i}})
	}
	ev := h.mbox.take()
	if len(ev) != 10 {
		t.Fatalf("%d waiting events, want the bound 10", len(ev))
	}
	var listeners []onair.Event
	for _, e := range ev {
		if e.Kind == onair.EventListeners {
			listeners = append(listeners, e)
		}
	}
	// One listener count waits per station, and it is the newest.
	if len(listeners) != 1 || listeners[0].Listeners.HTTP != 999 {
		t.Errorf("waiting listener counts %+v", listeners)
	}
}

func TestListenersWindow(t *testing.T) {
	h := &Hub{Limits: Limits{ListenersInterval: 250 * time.Millisecond}}
	h.init()
	// writing: no writer starts; the test takes what is queued.
	c := &conn{hub: h, writing: true, done: make(chan struct{}), rooms: map[string]struct{}{}}
	taken := func() []outbound {
		c.qmu.Lock()
		defer c.qmu.Unlock()
		q := c.queue
		c.queue = nil
		return q
	}
	if err := h.join(c, "s", onair.StationStatus{}, 0, false, ""); err != nil {
		t.Fatal(err)
	}
	if q := taken(); len(q) != 1 {
		t.Fatalf("%d messages queued on joining, want the welcome", len(q))
	}
	base := time.Now()
	step := func(at time.Duration, n int) { h.listenersChanged("s", onair.Listeners{HTTP: n}, base.Add(at)) }
	// sent returns the HTTP counts queued to c since the last call.
	sent := func() []int {
		var got []int
		for _, m := range taken() {
			var env struct{ Data listenersMsg }
			if err := json.Unmarshal(m.(*shared).text, &env); err != nil {
				t.Fatal(err)
			}
			got = append(got, env.Data.HTTP)
		}
		return got
	}
	step(0, 1)
	if got := sent(); !slices.Equal(got, []int{1}) {
		t.Fatalf("first count: sent %v, want [1] at once", got)
	}
	step(10*time.Millisecond, 2)
	step(20*time.Millisecond, 3)
	if got := sent(); len(got) != 0 {
		t.Fatalf("sent %v inside the window", got)
	}
	if d, ok := h.nextListeners(base.Add(20 * time.Millisecond)); !ok || d != 230*time.Millisecond {
		t.Errorf("next due in %v %v, want 230ms", d, ok)
	}
	h.flushListeners(base.Add(249 * time.Millisecond))
	if got := sent(); len(got) != 0 {
		t.Fatalf("sent %v before the window ended", got)
	}
	h.flushListeners(base.Add(250 * time.Millisecond))
	if got := sent(); !slices.Equal(got, []int{3}) {
		t.Fatalf("sent %v at the end of the window, want the last count [3]", got)
	}
	if _, ok := h.nextListeners(base.Add(250 * time.Millisecond)); ok {
		t.Error("a count still waits after the flush")
	}
	// A quiet room sends the next count at once again.
	step(time.Second, 4)
	if got := sent(); !slices.Equal(got, []int{4}) {
		t.Fatalf("after a quiet second: sent %v, want [4]", got)
	}
}
