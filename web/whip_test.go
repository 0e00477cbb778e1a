package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/control"
)

// fakeWHIP records what the edge asks of the WHIP sessions.
type fakeWHIP struct {
	slug, streamer, offer string
	ended                 string
	endErr                error
}

func (f *fakeWHIP) Publish(_ context.Context, slug, streamer, offer string) (string, string, error) {
	f.slug, f.streamer, f.offer = slug, streamer, offer
	return "abc123", "v=0 answer", nil
}

func (f *fakeWHIP) End(slug, id string) error {
	f.ended = slug + "/" + id
	return f.endErr
}

func TestWHIPEdge(t *testing.T) {
	fake := &fakeWHIP{}
	e := newEnv(t, withServer(func(s *Server) {
		s.WHIP = fake
		s.ICEServers = []string{"stun:stun.example.net:3478"}
	}))
	if _, err := e.srv.Control.CreateStreamer(context.Background(), e.owner, e.slug, control.NewStreamer{Username: "guest", Password: password, DisplayName: "DJ Guest"}); err != nil {
		t.Fatal(err)
	}
	sdp := http.Header{"Content-Type": {"application/sdp"}}
	basic := func(user, pass string) http.Header {
		h := sdp.Clone()
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		h.Set("Authorization", r.Header.Get("Authorization"))
		return h
	}
	path := "/api/stations/" + e.slug + "/whip"
	for _, c := range []struct {
		name, token string
		header      http.Header
		body        string
		want        int
		streamer    string
	}{
		{"nobody", "", sdp, "v=0", 401, ""},
		{"a listener", "listener", sdp, "v=0", 403, ""},
		{"another owner", "other", sdp, "v=0", 403, ""},
		{"not SDP", "owner", http.Header{"Content-Type": {"text/plain"}}, "v=0", 415, ""},
		{"a wrong password", "", basic("guest", "wrong password!"), "v=0", 401, ""},
		{"the owner", "owner", sdp, "v=0 owner", 201, "owner"},
		{"an admin", "admin", sdp, "v=0 admin", 201, "admin"},
		{"a streamer", "", basic("guest", password), "v=0 guest", 201, "DJ Guest"},
	} {
		tok := ""
		if c.token != "" {
			tok = e.token[c.token]
		}
		fake.streamer = ""
		resp, body := e.do("POST", path, tok, c.body, c.header)
		if resp.StatusCode != c.want {
			t.Fatalf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if c.want != 201 {
			if fake.streamer != "" {
				t.Fatalf("%s: refused, yet published", c.name)
			}
			continue
		}
		if fake.slug != e.slug || fake.streamer != c.streamer || fake.offer != c.body {
			t.Fatalf("%s: published %+v", c.name, fake)
		}
		if resp.Header.Get("Content-Type") != "application/sdp" || resp.Header.Get("Location") != path+"/abc123" || string(body) != "v=0 answer" ||
			resp.Header.Get("Link") != `<stun:stun.example.net:3478>; rel="ice-server"` {
			t.Fatalf("%s: answer %v %q", c.name, resp.Header, body)
		}
	}

	// DELETE: same rules; the session's own errors pass through.
	if resp, _ := e.do("DELETE", path+"/abc123", e.token["other"], nil, nil); resp.StatusCode != 403 || fake.ended != "" {
		t.Fatalf("DELETE by another owner: %d, ended %q", resp.StatusCode, fake.ended)
	}
	if resp, _ := e.do("DELETE", path+"/abc123", e.token["owner"], nil, nil); resp.StatusCode != 200 || fake.ended != e.slug+"/abc123" {
		t.Fatalf("DELETE: %d, ended %q", resp.StatusCode, fake.ended)
	}
	fake.endErr = onair.Errorf(onair.ENotFound, "no such WHIP session")
	if resp, _ := e.do("DELETE", path+"/nope", e.token["owner"], nil, nil); resp.StatusCode != 404 {
		t.Fatalf("DELETE of an unknown session: %d", resp.StatusCode)
	}
	if resp, _ := e.do("PATCH", path+"/abc123", e.token["owner"], "a=candidate", nil); resp.StatusCode != 405 {
		t.Fatalf("PATCH: %d, want 405", resp.StatusCode)
	}
}

func TestWHIPOffWithoutIngest(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.do("POST", "/api/stations/"+e.slug+"/whip", e.token["owner"], "v=0", http.Header{"Content-Type": {"application/sdp"}})
	if resp.StatusCode != 404 {
		t.Fatalf("no WHIP: %d, want 404", resp.StatusCode)
	}
}
