package signalling

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
)

func TestCleanChat(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"hello", "hello", true},
		{"  padded \n", "padded", true},
		{"two\nlines", "two\nlines", true},
		{"bell\a tab\t cr\r nul\x00 del\x7f c1\u0085", "bell tab cr nul del c1", true},
		{"<script>alert(1)</script> & \"quotes\"", "<script>alert(1)</script> & \"quotes\"", true},
		{"emoji 🎵 ünïcödé", "emoji 🎵 ünïcödé", true},
		{strings.Repeat("é", 500), strings.Repeat("é", 500), true},
		{strings.Repeat("é", 501), "", false},
		{" \x01\n\t ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := cleanChat(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("cleanChat(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && onair.ErrorCode(err) != onair.EInvalid {
			t.Errorf("cleanChat(%q) error code %s", tt.in, onair.ErrorCode(err))
		}
	}
}

func TestChat(t *testing.T) {
	var clock fakeClock
	clock.set(t0)
	env := newEnv(t, func(h *Hub) { h.Now = clock.now })
	alice := env.dialAs(t, "alice-token")
	listener := env.dial(t, nil)
	listener.join("live")

	alice.send(evChatSend, map[string]string{"station": "live", "text": "hi"}, "c0")
	if e := alice.expectError(onair.EInvalid, "c0"); !strings.Contains(e.Message, "join") {
		t.Errorf("not-joined error %q should say to join", e.Message)
	}
	alice.join("live")

	listener.send(evChatSend, map[string]string{"station": "live", "text": "hi"}, "c1")
	listener.expectError(onair.EUnauthorized, "c1")

	alice.send(evChatSend, map[string]string{"station": "live", "text": " <b>hi</b>\u0007 \n"}, "c2")
	for i, c := range []*client{alice, listener} {
		var m chatMsg
		c.expect(evChat).decode(t, &m)
		want := chatMsg{Station: "live", ID: 1, User: "alice", Text: "<b>hi</b>", At: "2025-03-01T12:00:00.123Z"}
		if m != want {
			t.Errorf("client %d got %+v, want %+v", i, m, want)
		}
	}
	alice.expect(evAck)

	alice.send(evChatSend, map[string]string{"station": "live", "text": strings.Repeat("x", 501)}, "c3")
	alice.expectError(onair.EInvalid, "c3")

	// Burst 5 per user, and the clock stands still: four more pass.
	for i := 2; i <= 5; i++ {
		alice.send(evChatSend, map[string]string{"station": "live", "text": "again"}, "")
		var m chatMsg
		alice.expect(evChat).decode(t, &m)
		if m.ID != int64(i) {
			t.Errorf("chat id %d, want %d", m.ID, i)
		}
	}
	alice.send(evChatSend, map[string]string{"station": "live", "text": "too much"}, "c4")
	alice.expectError(onair.ERateLimited, "c4")
	// The limit is the user's, not the socket's.
	again := env.dialAs(t, "alice-token")
	again.join("live")
	again.send(evChatSend, map[string]string{"station": "live", "text": "other socket"}, "c5")
	again.expectError(onair.ERateLimited, "c5")
}

func TestLike(t *testing.T) {
	var clock fakeClock
	clock.set(t0)
	env := newEnv(t, func(h *Hub) { h.Now = clock.now })
	alice := env.dialAs(t, "alice-token")
	listener := env.dial(t, nil)
	listener.join("live")

	listener.send(evInteraction, map[string]string{"station": "live", "type": "like"}, "l1")
	listener.expectError(onair.EUnauthorized, "l1")
	alice.send(evInteraction, map[string]string{"station": "live", "type": "like"}, "l2")
	alice.expectError(onair.EInvalid, "l2")
	alice.join("live")
	alice.send(evInteraction, map[string]string{"station": "live", "type": "love"}, "l3")
	alice.expectError(onair.EInvalid, "l3")

	for i := int64(42); i <= 46; i++ {
		alice.send(evInteraction, map[string]string{"station": "live", "type": "like"}, "")
		for _, c := range []*client{alice, listener} {
			var m countMsg
			c.expect(evCount).decode(t, &m)
			if m != (countMsg{Station: "live", Type: "like", Count: i}) {
				t.Errorf("count %+v, want %d", m, i)
			}
		}
	}
	alice.send(evInteraction, map[string]string{"station": "live", "type": "like"}, "l4")
	alice.expectError(onair.ERateLimited, "l4")
	clock.set(t0.Add(time.Second))
	alice.send(evInteraction, map[string]string{"station": "live", "type": "like"}, "l5")
	alice.expect(evCount)
	alice.expect(evAck)
}

// fakeClock is a settable clock the hub may read from any goroutine.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// OnEngagement is told of each chat message and like that got through,
// and of nothing refused.
func TestOnEngagement(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	env := newEnv(t, func(h *Hub) {
		h.OnEngagement = func(station, kind string) {
			mu.Lock()
			defer mu.Unlock()
			got[station+"/"+kind]++
		}
	})
	alice := env.dialAs(t, "alice-token")
	alice.send(evChatSend, map[string]string{"station": "live", "text": "not joined"}, "c0")
	alice.expectError(onair.EInvalid, "c0")
	alice.join("live")
	alice.send(evChatSend, map[string]string{"station": "live", "text": "hi"}, "c1")
	alice.expect(evChat)
	alice.expect(evAck)
	alice.send(evInteraction, map[string]string{"station": "live", "type": "like"}, "l1")
	alice.expect(evCount)
	alice.expect(evAck)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got["live/chat"] != 1 || got["live/like"] != 1 {
		t.Errorf("engagement %v, want one chat and one like on live", got)
	}
}

// fakeMirror gives chat IDs from a counter shared, in a test, by the
// "nodes" of a cluster, and records what it was handed.
type fakeMirror struct {
	mu     sync.Mutex
	next   *int64
	frames [][]byte
}

func (f *fakeMirror) Chat(_ string, frame []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, frame)
}

func (f *fakeMirror) Likes(string, int64) {}

func (f *fakeMirror) ChatID(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.next++
	return *f.next, nil
}

// TestClusterChatIDs: in a cluster the Mirror gives IDs; messages from
// other nodes take their place in the history by ID, whatever order they
// come in, and one delivered twice is kept and sent once.
func TestClusterChatIDs(t *testing.T) {
	var clock fakeClock
	clock.set(t0)
	seq := int64(10) // other nodes have used IDs up to 10
	mir := &fakeMirror{next: &seq}
	env := newEnv(t, func(h *Hub) { h.Now, h.Mirror = clock.now, mir })
	alice := env.dialAs(t, "alice-token")
	alice.join("live")
	alice.send(evChatSend, map[string]string{"station": "live", "text": "mine"}, "c1")
	var m chatMsg
	alice.expect(evChat).decode(t, &m)
	alice.expect(evAck) // sent after the message went to the mirror
	mir.mu.Lock()
	mirrored := len(mir.frames)
	mir.mu.Unlock()
	if m.ID != 11 || mirrored != 1 {
		t.Fatalf("local message id %d, %d mirrored; want 11, 1", m.ID, mirrored)
	}

	peer := func(id int64, text string) []byte {
		b, err := encode(evChat, chatMsg{Station: "live", ID: id, User: "bob", Text: text, At: "2025-03-01T12:00:00.000Z"}, "")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, d := range []struct {
		id   int64
		text string
	}{{13, "third"}, {9, "first"}, {13, "third"}, {12, "second"}} {
		if err := env.hub.DeliverChat("live", peer(d.id, d.text)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int64{13, 9, 12} { // as they came, the duplicate once
		alice.expect(evChat).decode(t, &m)
		if m.ID != want {
			t.Fatalf("delivered id %d, want %d", m.ID, want)
		}
	}
	if err := env.hub.DeliverChat("live", peer(0, "no id")); err == nil {
		t.Fatal("a peer's message without an ID was taken")
	}

	late := env.dial(t, nil)
	late.send(evJoin, map[string]string{"station": "live"}, "")
	var ids []int64
	for len(ids) < 4 {
		got := late.next()
		if got.Event == evChat {
			got.decode(t, &m)
			ids = append(ids, m.ID)
		}
	}
	if !slices.Equal(ids, []int64{9, 11, 12, 13}) {
		t.Fatalf("history ids %v, want 9 11 12 13", ids)
	}
}
