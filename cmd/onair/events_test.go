package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onairfm/onair/internal/client"
)

func has(m client.Message, s string) bool { return strings.Contains(string(m.Data), s) }

func TestEventSequences(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Events FM", "tone440.mp3", "tone880.mp3")
	s.must(200, "POST", "/api/stations/"+slug+"/stop", tok, nil, nil)

	outsider := s.dial(t, "") // never joins
	room := s.dial(t, "")
	room.Send("stream:join", map[string]string{"station": slug})
	expect(t, room, "stream:offline", "stream:listeners")

	owner := s.dial(t, tok)
	owner.Send("stream:start", map[string]string{"station": slug})
	for _, c := range []*client.Socket{outsider, room} {
		m := waitFor(t, c, "stream:started", nil)
		if !has(m, `"station":"`+slug+`"`) || !has(m, `"started_at":"`) {
			t.Fatalf("started: %s", m.Data)
		}
	}
	waitFor(t, room, "stream:live", nil)
	waitFor(t, room, "stream:metadata", func(m client.Message) bool { return has(m, `"title":"Tone 440"`) })

	owner.Send("stream:update-metadata", map[string]string{"station": slug, "show": "Morning Show"})
	m := waitFor(t, room, "stream:metadata", func(m client.Message) bool { return has(m, `"show":"Morning Show"`) })
	for _, key := range []string{`"track_id":`, `"title":"Tone 440"`, `"artist":"Test Artist"`, `"album":"Fixtures"`, `"duration_ms":80`, `"started_at":"`} {
		if !has(m, key) {
			t.Fatalf("metadata lacks %s: %s", key, m.Data)
		}
	}

	// Counts move as an HTTP and a WebRTC listener come and go.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/stream/"+slug, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, room, "stream:listeners", func(m client.Message) bool { return has(m, `"count":1,"http":1,"webrtc":0`) })
	cancel()
	resp.Body.Close()
	waitFor(t, room, "stream:listeners", func(m client.Message) bool { return has(m, `"count":0,"http":0`) })
	rtc := listenRTC(t, s.dial(t, ""), slug, false)
	waitFor(t, room, "stream:listeners", func(m client.Message) bool { return has(m, `"count":1,"http":0,"webrtc":1`) })
	rtc.Close()
	waitFor(t, room, "stream:listeners", func(m client.Message) bool { return has(m, `"webrtc":0`) })

	owner.Send("stream:stop", map[string]string{"station": slug})
	waitFor(t, outsider, "stream:stopped", func(m client.Message) bool { return has(m, slug) })
	waitFor(t, room, "stream:stopped", nil)
	waitFor(t, room, "stream:offline", nil)

	// Unknown station.
	room.Send("stream:join", map[string]string{"station": "nope"}, "r1")
	m = waitFor(t, room, "error", nil)
	if !has(m, `"code":"not_found"`) || !has(m, `"ref":"r1"`) {
		t.Fatalf("join of an unknown station: %s", m.Data)
	}
}

func TestOwnerEventsOverWebSocketAreAuthorised(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	other := s.owner("intruder")
	s.must(201, "POST", "/api/auth/register", "", map[string]string{"username": "fan", "password": "fan-password"}, nil)
	fan := s.login("fan", "fan-password")
	slug, _ := s.liveStation(tok, "Guarded FM", "tone440.mp3", "tone880.mp3")

	for _, who := range []struct{ token, code string }{{"", "unauthorized"}, {fan, "forbidden"}, {other, "forbidden"}} {
		c := s.dial(t, who.token)
		for i, ev := range []struct {
			name string
			data map[string]string
		}{
			{"stream:stop", map[string]string{"station": slug}},
			{"stream:update-metadata", map[string]string{"station": slug, "title": "Hacked"}},
			{"stream:start", map[string]string{"station": slug}},
		} {
			ref := "x" + string(rune('0'+i))
			c.Send(ev.name, ev.data, ref)
			m := waitFor(t, c, "error", func(m client.Message) bool { return has(m, `"ref":"`+ref+`"`) })
			if !has(m, `"code":"`+who.code+`"`) {
				t.Errorf("%s by %q: %s", ev.name, who.token, m.Data)
			}
		}
	}
	var st stationJSON
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if !st.Live || st.NowPlaying.Title != "Tone 440" {
		t.Fatalf("refused events changed the station: %+v", st)
	}
	// The admin may.
	admin := s.dial(t, s.admin)
	admin.Send("stream:update-metadata", map[string]string{"station": slug, "title": "By Admin"}, "a1")
	waitFor(t, admin, "ack", func(m client.Message) bool { return m.Ref == "a1" || has(m, `"a1"`) })
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if st.NowPlaying.Title != "By Admin" {
		t.Fatalf("admin's metadata not applied: %+v", st.NowPlaying)
	}
}

func TestChatAndLikes(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Chat FM", "tone440.mp3")
	s.must(201, "POST", "/api/auth/register", "", map[string]string{"username": "fan", "password": "fan-password"}, nil)
	fan := s.dial(t, s.login("fan", "fan-password"))
	reader := s.dial(t, "")
	for _, c := range []*client.Socket{fan, reader} {
		c.Send("stream:join", map[string]string{"station": slug})
		waitFor(t, c, "stream:listeners", nil)
	}
	text := `<b>hello</b> "world" & 'you' ♪`
	fan.Send("chat:send", map[string]string{"station": slug, "text": text})
	m := waitFor(t, reader, "chat:message", nil)
	var msg struct{ Station, User, Text, At string }
	m.Decode(&msg)
	if msg.User != "fan" || msg.Text != text || msg.Station != slug || msg.At == "" {
		t.Fatalf("chat message %s", m.Data)
	}
	reader.Send("chat:send", map[string]string{"station": slug, "text": "anon"}, "c1")
	if m := waitFor(t, reader, "error", nil); !has(m, `"code":"unauthorized"`) {
		t.Fatalf("anonymous chat: %s", m.Data)
	}
	fan.Send("interaction:send", map[string]string{"station": slug, "type": "like"})
	m = waitFor(t, reader, "interaction:count", func(m client.Message) bool { return has(m, `"count":1`) })
	if !has(m, `"type":"like"`) {
		t.Fatalf("like count %s", m.Data)
	}
	// A later joiner gets the recent chat and the like count.
	late := s.dial(t, "")
	late.Send("stream:join", map[string]string{"station": slug})
	waitFor(t, late, "chat:message", func(m client.Message) bool { return has(m, `hello`) })
	waitFor(t, late, "interaction:count", func(m client.Message) bool { return has(m, `"count":1`) })
}

func TestSocketAbuse(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Abuse FM", "tone440.mp3")

	// A foreign page cannot use a visitor's cookie.
	h := http.Header{}
	h.Set("Origin", "http://evil.example")
	h.Set("Cookie", "onair_session="+tok)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Dial(ctx, s.wsURL(), h); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("foreign origin with a cookie: %v", err)
	}

	bystander := s.dial(t, "")
	bystander.Send("stream:join", map[string]string{"station": slug})
	waitFor(t, bystander, "stream:listeners", nil)

	bad := s.dial(t, "")
	for _, frame := range []string{"not json", `{"event":`, `[]`, `{"event":"stream:join","data":{"station":7}}`, `{"event":"no:such","data":{}}`, `{"data":{}}`} {
		bad.SendRaw(websocket.TextMessage, []byte(frame))
		if m := waitFor(t, bad, "error", nil); !has(m, `"code":"bad_request"`) {
			t.Fatalf("%q: %s", frame, m.Data)
		}
	}
	bad.Send("stream:join", map[string]string{"station": slug})
	waitFor(t, bad, "stream:live", nil) // still usable

	huge := s.dial(t, "")
	huge.SendRaw(websocket.TextMessage, []byte(`{"event":"chat:send","data":{"text":"`+strings.Repeat("x", 1<<20)+`"}}`))
	select {
	case <-huge.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a 1 MB frame did not close the connection")
	}

	flood := s.dial(t, "")
	for range 500 {
		if flood.Send("stream:join", map[string]string{"station": slug}) != nil {
			break
		}
	}
	waitFor(t, flood, "error", func(m client.Message) bool { return has(m, `"code":"rate_limited"`) })
	select {
	case <-flood.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("a flood did not close the connection")
	}

	// Everyone else is still served.
	s.must(200, "POST", "/api/stations/"+slug+"/metadata", tok, map[string]string{"title": "Still Here"}, nil)
	waitFor(t, bystander, "stream:metadata", func(m client.Message) bool { return has(m, "Still Here") })
	s.must(200, "GET", "/healthz", "", nil, nil)
}
