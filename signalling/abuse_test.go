package signalling

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

func TestBadMessagesKeepTheSocket(t *testing.T) {
	env := newEnv(t, nil)
	c := env.dial(t, nil)
	tests := []struct {
		name    string
		mt      int
		frame   string
		wantRef string
	}{
		{"garbage", websocket.TextMessage, "hello?", ""},
		{"truncated JSON", websocket.TextMessage, `{"event":"stream:join","ref":"r1"`, ""},
		{"array", websocket.TextMessage, `[1,2]`, ""},
		{"binary frame", websocket.BinaryMessage, `{"event":"stream:join","data":{"station":"live"}}`, ""},
		{"no event", websocket.TextMessage, `{"data":{},"ref":"r2"}`, "r2"},
		{"event not a string", websocket.TextMessage, `{"event":1,"ref":"r3"}`, ""},
		{"unknown event", websocket.TextMessage, `{"event":"stream:explode","data":{},"ref":"r4"}`, "r4"},
		{"server event sent back", websocket.TextMessage, `{"event":"stream:live","data":{"station":"x"},"ref":"r5"}`, "r5"},
		{"missing data", websocket.TextMessage, `{"event":"stream:join","ref":"r6"}`, "r6"},
		{"null data", websocket.TextMessage, `{"event":"stream:join","data":null,"ref":"r7"}`, "r7"},
		{"data not an object", websocket.TextMessage, `{"event":"stream:join","data":"live","ref":"r8"}`, "r8"},
		{"station not a string", websocket.TextMessage, `{"event":"stream:join","data":{"station":5},"ref":"r9"}`, "r9"},
		{"missing sdp", websocket.TextMessage, `{"event":"webrtc:offer","data":{"station":"live"},"ref":"r10"}`, "r10"},
		{"candidate not an object", websocket.TextMessage, `{"event":"webrtc:candidate","data":{"station":"live","candidate":"x"},"ref":"r11"}`, "r11"},
		{"track_id a string", websocket.TextMessage, `{"event":"stream:start","data":{"station":"live","track_id":"7"},"ref":"r12"}`, "r12"},
		{"ref not a string", websocket.TextMessage, `{"event":"stream:join","data":{"station":"live"},"ref":5}`, ""},
		{"huge station", websocket.TextMessage, `{"event":"stream:join","data":{"station":"` + strings.Repeat("s", 300) + `"},"ref":"r13"}`, "r13"},
		{"empty token", websocket.TextMessage, `{"event":"auth","data":{"token":""},"ref":"r14"}`, "r14"},
		{"empty chat", websocket.TextMessage, `{"event":"chat:send","data":{"station":"live"},"ref":"r15"}`, "r15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.sendRaw(tt.mt, []byte(tt.frame))
			c.expectError(onair.EInvalid, tt.wantRef)
		})
	}
	c.join("live") // still served
}

func TestOversizedMessageClosesOnlyThatSocket(t *testing.T) {
	env := newEnv(t, nil)
	other := env.dial(t, nil)
	c := env.dial(t, nil)
	testutil.Eventually(t, 10*time.Second, "two connections", func() bool { return env.hub.Connections() == 2 })

	big := append([]byte(`{"event":"chat:send","data":{"station":"live","text":"`), bytes.Repeat([]byte("a"), 1<<20)...)
	big = append(big, `"}}`...)
	_ = c.ws.WriteMessage(websocket.TextMessage, big) // the server may cut it short
	if code := c.expectClosed(); code != websocket.CloseMessageTooBig && code != -1 {
		t.Errorf("close code %d, want %d", code, websocket.CloseMessageTooBig)
	}
	testutil.Eventually(t, 10*time.Second, "the abuser dropped", func() bool { return env.hub.Connections() == 1 })
	other.join("live")
}

func TestFloodIsRateLimitedThenClosed(t *testing.T) {
	var clock fakeClock
	clock.set(t0) // no refill: the counts below are exact
	env := newEnv(t, func(h *Hub) {
		h.Now = clock.now
		h.Limits.MessageBurst = 10
		h.Limits.FloodTolerance = 5
	})
	c := env.dial(t, nil)
	other := env.dial(t, nil)
	leave := []byte(`{"event":"stream:leave","data":{"station":"x"},"ref":"f"}`)
	for range 100 {
		if c.ws.WriteMessage(websocket.TextMessage, leave) != nil {
			break // closed under our feet, as it should be
		}
	}
	acks, limited := 0, 0
	for acks+limited < 15 {
		switch m := c.next(); m.Event {
		case evAck:
			acks++
		case evError:
			var e errorMsg
			m.decode(t, &e)
			if e.Code != onair.ERateLimited || e.Ref != "f" {
				t.Fatalf("error %+v", e)
			}
			limited++
		default:
			t.Fatalf("unexpected %s", m.Event)
		}
	}
	if acks != 10 || limited != 5 {
		t.Errorf("%d acks, %d rate_limited errors; want 10 and 5", acks, limited)
	}
	if code := c.expectClosed(); code != websocket.ClosePolicyViolation {
		t.Errorf("close code %d, want %d", code, websocket.ClosePolicyViolation)
	}
	other.join("live")
}

func TestSlowReaderIsDroppedWithoutSlowingOthers(t *testing.T) {
	env := newEnv(t, func(h *Hub) { h.Limits.SendQueue = 8 })
	slow := env.dial(t, nil)
	slow.join("live")
	fast := env.dial(t, nil)
	fast.join("live")

	// Big events fill the slow client's socket buffers, then its queue.
	// Each is published once the fast client has the previous one, so the
	// fast client's queue never holds more than one.
	title := strings.Repeat("t", 16<<10)
	for i := int64(1); i <= 4000 && env.hub.Connections() == 2; i++ {
		env.hub.Publish(onair.Event{Kind: onair.EventMetadata, Station: "live", NowPlaying: &onair.NowPlaying{TrackID: i, Title: title}})
		var m metadataMsg
		fast.expect(evMetadata).decode(t, &m)
		if m.TrackID != i {
			t.Fatalf("fast client got track %d, want %d", m.TrackID, i)
		}
	}
	testutil.Eventually(t, 10*time.Second, "the slow client dropped", func() bool { return env.hub.Connections() == 1 })
	if code := slow.expectClosed(); code == websocket.CloseGoingAway {
		t.Errorf("slow client got a clean close %d", code)
	}
	fast.roundTrip("still here")
}

func TestKeepalive(t *testing.T) {
	env := newEnv(t, func(h *Hub) {
		h.Limits.PingInterval = 20 * time.Millisecond
		h.Limits.PongWait = 100 * time.Millisecond
	})
	// A client that reads answers pings (gorilla does it inside reads).
	alive := env.dial(t, nil)
	pings := make(chan struct{}, 100)
	alive.ws.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return alive.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := alive.ws.NextReader(); err != nil {
				return
			}
		}
	}()
	// A client that never reads sends no pongs and is dropped.
	env.dial(t, nil)
	testutil.Eventually(t, 10*time.Second, "the silent client dropped", func() bool { return env.hub.Connections() == 1 })
	// By now the live client has outlived PongWait on pongs alone.
	for range 10 {
		<-pings
	}
	if n := env.hub.Connections(); n != 1 {
		t.Fatalf("%d connections, want the reading client only", n)
	}
}
