package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestPlaylistFiles(t *testing.T) {
	e := newEnv(t)
	url := e.ts.URL + "/stream/" + e.slug
	for _, c := range []struct{ ext, ctype, body string }{
		{".m3u", "audio/x-mpegurl", "#EXTM3U\n#EXTINF:-1,Test FM\n" + url + "\n"},
		{".pls", "audio/x-scpls", "[playlist]\nNumberOfEntries=1\nFile1=" + url + "\nTitle1=Test FM\nLength1=-1\nVersion=2\n"},
	} {
		// Offline: a player may be set up before the show.
		resp, body := e.as("", "GET", "/stream/"+e.slug+c.ext, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != c.ctype || string(body) != c.body {
			t.Errorf("%s: %d %q %q, want %q %q", c.ext, resp.StatusCode, resp.Header.Get("Content-Type"), body, c.ctype, c.body)
		}
		resp, body = e.as("", "HEAD", "/stream/"+e.slug+c.ext, nil)
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("HEAD %s: %d %q", c.ext, resp.StatusCode, body)
		}
		resp, body = e.as("", "GET", "/stream/nope"+c.ext, nil)
		wantError(t, resp, body, http.StatusNotFound)
		resp, body = e.as("owner", "POST", "/stream/"+e.slug+c.ext, nil)
		wantError(t, resp, body, http.StatusMethodNotAllowed)
	}

	// A name cannot add lines to the file.
	resp, body := e.as("owner", "PATCH", "/api/stations/"+e.slug, map[string]string{"name": "Evil\nFile1=http://evil.example/"})
	want(t, resp, body, http.StatusOK)
	resp, body = e.as("", "GET", "/stream/"+e.slug+".pls", nil)
	if n := strings.Count(string(body), "\nFile1="); n != 1 || resp.StatusCode != http.StatusOK {
		t.Errorf("a station name injected a line: %q", body)
	}
}

func TestPlaylistFilesUsePublicURL(t *testing.T) {
	e := newEnv(t, withServer(func(s *Server) { s.PublicURL = "https://radio.example/" }))
	resp, body := e.as("", "GET", "/stream/"+e.slug+".m3u", nil)
	if want := "#EXTM3U\n#EXTINF:-1,Test FM\nhttps://radio.example/stream/" + e.slug + "\n"; resp.StatusCode != http.StatusOK || string(body) != want {
		t.Fatalf("%d %q, want %q", resp.StatusCode, body, want)
	}
}

func TestStreamAndStatus(t *testing.T) {
	e := newEnv(t)
	e.addTracks("tone440.mp3")
	resp, body := e.as("", "GET", "/stream/"+e.slug, nil)
	wantError(t, resp, body, http.StatusNotFound) // not live, as Icecast
	resp, body = e.as("", "GET", "/status-json.xsl", nil)
	var status struct {
		Icestats struct {
			Source []map[string]any `json:"source"`
		} `json:"icestats"`
	}
	if err := json.Unmarshal(body, &status); err != nil || resp.StatusCode != http.StatusOK || status.Icestats.Source == nil || len(status.Icestats.Source) != 0 {
		t.Fatalf("status while off air: %d %s (%v)", resp.StatusCode, body, err)
	}

	resp, body = e.as("owner", "POST", "/api/stations/"+e.slug+"/start", nil)
	want(t, resp, body, http.StatusOK)
	for _, path := range []string{"/stream/" + e.slug, "/stream/" + e.slug + ".mp3"} {
		resp, err := e.client.Get(e.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		_, err = io.ReadFull(resp.Body, buf)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/mpeg" || resp.Header.Get("icy-name") != "Test FM" {
			t.Fatalf("%s: %d %v %v", path, resp.StatusCode, resp.Header, err)
		}
		if buf[0] != 0xFF || buf[1]&0xE0 != 0xE0 {
			t.Errorf("%s: audio does not start with an MP3 frame: % x", path, buf[:4])
		}
	}

	resp, body = e.as("", "GET", "/status-json.xsl", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status while live: %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, &status); err != nil || len(status.Icestats.Source) != 1 {
		t.Fatalf("status while live: %s (%v)", body, err)
	}
	if src := status.Icestats.Source[0]; src["listenurl"] != e.ts.URL+"/stream/"+e.slug || src["server_name"] != "Test FM" {
		t.Errorf("source %v", src)
	}
}

func TestOperationalRoutes(t *testing.T) {
	e := newEnv(t)
	resp, body := e.as("", "GET", "/healthz", nil)
	if m := want(t, resp, body, http.StatusOK); m["status"] != "ok" {
		t.Errorf("healthz %v", m)
	}
	resp, body = e.as("", "GET", "/api/config", nil)
	if ice, ok := want(t, resp, body, http.StatusOK)["ice_servers"].([]any); !ok || len(ice) != 0 {
		t.Errorf("config without ICE servers: %s", body)
	}
	for _, p := range []string{"/metrics", "/ws"} {
		resp, body = e.as("", "GET", p, nil)
		wantError(t, resp, body, http.StatusNotFound)
	}
}

func TestOperationalRoutesWired(t *testing.T) {
	handler := func(text string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, text) })
	}
	e := newEnv(t, withServer(func(s *Server) {
		s.ICEServers = []string{"stun:stun.example:3478"}
		s.Metrics = handler("# metrics\n")
		s.WS = handler("ws")
	}))
	resp, body := e.as("", "GET", "/api/config", nil)
	if ice := want(t, resp, body, http.StatusOK)["ice_servers"].([]any); len(ice) != 1 || ice[0] != "stun:stun.example:3478" {
		t.Errorf("ice_servers %v", ice)
	}
	for path, text := range map[string]string{"/metrics": "# metrics\n", "/ws": "ws"} {
		resp, body = e.as("", "GET", path, nil)
		if resp.StatusCode != http.StatusOK || string(body) != text {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
}
