package signalling

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
	"go.uber.org/goleak"
)

func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	relay := &fakeRelay{fail: map[string]error{}, bad: map[string]bool{}}
	h := &Hub{Auth: defaultAuth(), Stations: defaultStations(), Peers: relay.factory(), Likes: (&likeStore{n: map[string]int64{}}).fake()}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	var clients []*client
	for i := range 5 {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &client{t: t, ws: ws}
		clients = append(clients, c)
		c.join("live")
		if i%2 == 0 {
			c.offer("live", "o", "")
		}
	}
	// Events still in flight while the hub closes.
	for i := range 100 {
		h.Publish(onair.Event{Kind: onair.EventListeners, Station: "live", Listeners: onair.Listeners{HTTP: i}})
	}

	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	for _, c := range clients {
		c.expectClosed()
		_ = c.ws.Close()
	}
	for i := range 3 {
		if _, _, closed := relay.peer(i).state(); closed != 1 {
			t.Errorf("peer %d closed %d times, want 1", i, closed)
		}
	}
}
