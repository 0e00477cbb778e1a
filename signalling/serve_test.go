package signalling

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
)

func TestOrigin(t *testing.T) {
	env := newEnv(t, func(h *Hub) { h.AllowedOrigins = []string{"https://radio.example/"} })
	host := strings.TrimPrefix(env.srv.URL, "http://")
	cookie := "onair_session=alice-token"
	tests := []struct {
		name   string
		origin []string
		ok     bool
	}{
		{"no origin", nil, true},
		{"same origin", []string{"http://" + host}, true},
		{"allowed origin", []string{"https://radio.example"}, true},
		{"foreign origin with a valid cookie", []string{"https://evil.example"}, false},
		{"foreign port", []string{"http://127.0.0.1:1"}, false},
		{"opaque origin", []string{"null"}, false},
		{"two origins", []string{"http://" + host, "https://evil.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{"Cookie": {cookie}}
			for _, o := range tt.origin {
				hdr.Add("Origin", o)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(env.url, hdr)
			if tt.ok {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("upgraded a foreign origin")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("refusal %v, want 403", resp)
			}
			checkJSONError(t, resp)
		})
	}
}

func checkJSONError(t *testing.T, resp *http.Response) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	var body struct{ Error string }
	if err := json.Unmarshal(b, &body); err != nil || body.Error == "" {
		t.Errorf("body %q is not a JSON error", b)
	}
}

// chatAs joins "live" and posts, returning the user the chat message names
// or the error code.
func chatAs(t *testing.T, c *client) (user string, code onair.Code) {
	t.Helper()
	c.join("live")
	c.send(evChatSend, map[string]string{"station": "live", "text": "hi"}, "")
	m := c.next()
	switch m.Event {
	case evChat:
		var cm chatMsg
		m.decode(t, &cm)
		return cm.User, ""
	case evError:
		var e errorMsg
		m.decode(t, &e)
		return "", e.Code
	}
	t.Fatalf("unexpected %s", m.Event)
	return "", ""
}

func TestAuthAtUpgrade(t *testing.T) {
	env := newEnv(t, nil)
	tests := []struct {
		name     string
		hdr      http.Header
		wantUser string
		wantCode onair.Code
	}{
		{"cookie", http.Header{"Cookie": {"onair_session=alice-token"}}, "alice", ""},
		{"bearer", http.Header{"Authorization": {"Bearer olivia-token"}}, "olivia", ""},
		{"bearer beats cookie", http.Header{"Authorization": {"bearer olivia-token"}, "Cookie": {"onair_session=alice-token"}}, "olivia", ""},
		{"bad cookie is anonymous", http.Header{"Cookie": {"onair_session=stale"}}, "", onair.EUnauthorized},
		{"anonymous", nil, "", onair.EUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, code := chatAs(t, env.dial(t, tt.hdr))
			if user != tt.wantUser || code != tt.wantCode {
				t.Errorf("chat as %q / %q, want %q / %q", user, code, tt.wantUser, tt.wantCode)
			}
		})
	}
	for _, hdr := range []string{"Bearer wrong", "Basic YTpi", "Bearer "} {
		t.Run("refused "+hdr, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(env.url, http.Header{"Authorization": {hdr}})
			if err == nil {
				ws.Close()
				t.Fatal("upgraded with a bad Authorization header")
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("refusal %v, want 401", resp)
			}
			checkJSONError(t, resp)
		})
	}
}

func TestAuthEvent(t *testing.T) {
	env := newEnv(t, nil)
	c := env.dial(t, nil)

	c.send(evAuth, map[string]string{"token": "bad"}, "a1")
	c.expectError(onair.EUnauthorized, "a1")

	c.send(evAuth, map[string]string{"token": "alice-token"}, "a2")
	m := c.expect(evAuth)
	if m.Ref != "a2" {
		t.Errorf("auth ref %q", m.Ref)
	}
	var got struct {
		User map[string]any `json:"user"`
	}
	m.decode(t, &got)
	want := map[string]any{"id": 1.0, "username": "alice", "role": "listener"}
	if len(got.User) != len(want) {
		t.Errorf("user %v, want %v", got.User, want)
	}
	for k, v := range want {
		if got.User[k] != v {
			t.Errorf("user.%s = %v, want %v", k, got.User[k], v)
		}
	}
	if user, code := chatAs(t, c); user != "alice" {
		t.Errorf("chat after auth: %q %q", user, code)
	}

	// A later bad token keeps the identity the socket has.
	c.send(evAuth, map[string]string{"token": "bad"}, "a3")
	c.expectError(onair.EUnauthorized, "a3")
	c.send(evChatSend, map[string]string{"station": "live", "text": "still me"}, "")
	var cm chatMsg
	c.expect(evChat).decode(t, &cm)
	if cm.User != "alice" {
		t.Errorf("user after a failed auth: %q", cm.User)
	}
}
