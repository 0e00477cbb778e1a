package web

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/live"
)

func TestStreamersAPI(t *testing.T) {
	e := newEnv(t)
	e.srv.Control.Auth = e.auth
	path := "/api/stations/" + e.slug + "/streamers"
	in := map[string]string{"username": "deejay", "password": "password1", "display_name": "DJ Test"}

	for _, who := range []string{"", "listener", "other"} {
		code := http.StatusForbidden
		if who == "" {
			code = http.StatusUnauthorized
		}
		resp, body := e.as(who, "POST", path, in)
		wantError(t, resp, body, code)
		resp, body = e.as(who, "GET", path, nil)
		wantError(t, resp, body, code)
		resp, body = e.as(who, "DELETE", path+"/deejay", nil)
		wantError(t, resp, body, code)
	}
	resp, body := e.as("owner", "POST", path, map[string]string{"username": "deejay", "password": "short"})
	wantError(t, resp, body, http.StatusBadRequest)

	resp, body = e.as("owner", "POST", path, in)
	got := want(t, resp, body, http.StatusCreated)
	checkExactKeys(t, "streamer", got, "username", "display_name", "created_at")
	if got["username"] != "deejay" || got["display_name"] != "DJ Test" {
		t.Fatalf("created %v", got)
	}
	checkTime(t, "created_at", got["created_at"])
	resp, body = e.as("admin", "POST", path, in)
	wantError(t, resp, body, http.StatusConflict)

	resp, body = e.as("admin", "GET", path, nil)
	list := objects(t, want(t, resp, body, http.StatusOK), "streamers")
	if len(list) != 1 || list[0]["username"] != "deejay" || strings.Contains(string(body), "password") {
		t.Fatalf("list %s", body)
	}

	resp, body = e.as("owner", "DELETE", path+"/deejay", nil)
	want(t, resp, body, http.StatusNoContent)
	resp, body = e.as("owner", "DELETE", path+"/deejay", nil)
	wantError(t, resp, body, http.StatusNotFound)
}

// TestIcecastSourceThroughTheServer puts a source on air through the
// server's routes: PUT on the stream's URL, the station JSON's "source",
// and updinfo on /admin/metadata.
func TestIcecastSourceThroughTheServer(t *testing.T) {
	e := newEnv(t)
	e.srv.Control.Auth = e.auth
	src := &live.Sources{Auth: e.srv.Control, Relay: e.relay}
	e.srv.Source = src
	t.Cleanup(func() { src.Close() })
	e.addTracks("tone440.mp3")
	resp, body := e.as("owner", "POST", "/api/stations/"+e.slug+"/start", nil)
	if resp.StatusCode >= 300 {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	resp, body = e.as("owner", "POST", "/api/stations/"+e.slug+"/streamers", map[string]string{"username": "deejay", "password": "password1", "display_name": "DJ Test"})
	want(t, resp, body, http.StatusCreated)
	st := e.station(t)
	if v, ok := st["source"]; !ok || v != nil {
		t.Fatalf("source before a source connects: %v (present %v)", v, ok)
	}

	// MP3 frames, sent in real time by a raw client.
	s := mp3.NewScanner(bytes.NewReader(fixture(t, "tone880.mp3")))
	var frames []byte
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f.Data...)
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(e.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, _ := http.NewRequest("PUT", e.ts.URL+"/stream/"+e.slug, nil)
	req.SetBasicAuth("deejay", "password1")
	head := "PUT /stream/" + e.slug + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + req.Header.Get("Authorization") +
		"\r\nContent-Type: audio/mpeg\r\n\r\n"
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		sent := 0
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond): // a sender's pace
			}
			due := int((time.Since(start) + 200*time.Millisecond).Seconds() * 16000)
			for sent < due {
				n := min(due-sent, len(frames)-sent%len(frames))
				if _, err := c.Write(frames[sent%len(frames) : sent%len(frames)+n]); err != nil {
					return
				}
				sent += n
			}
		}
	}()
	defer func() { close(stop); c.Close(); <-done }()
	buf := make([]byte, 64)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, _ := io.ReadAtLeast(c, buf, 12)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.0 200 OK") {
		t.Fatalf("source answer %q", buf[:n])
	}

	var source map[string]any
	testutil.Eventually(t, 60*time.Second, "the source in the station JSON", func() bool {
		st := e.station(t)
		source, _ = st["source"].(map[string]any)
		return source != nil
	})
	checkExactKeys(t, "source", source, "kind", "streamer", "connected_at")
	if source["kind"] != "icecast" || source["streamer"] != "DJ Test" {
		t.Fatalf("source %v", source)
	}
	checkTime(t, "connected_at", source["connected_at"])

	q := url.Values{"mount": {"/" + e.slug}, "mode": {"updinfo"}, "song": {"Someone - Something"}}
	h := http.Header{"Authorization": {req.Header.Get("Authorization")}}
	resp, body = e.do("GET", "/admin/metadata?"+q.Encode(), "", nil, h)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Metadata update successful") {
		t.Fatalf("updinfo: %d %s", resp.StatusCode, body)
	}
	testutil.Eventually(t, 60*time.Second, "the live title in now_playing", func() bool {
		st := e.station(t)
		np, _ := st["now_playing"].(map[string]any)
		return np != nil && np["title"] == "Something" && np["artist"] == "Someone"
	})
}

func (e *env) station(t *testing.T) map[string]any {
	t.Helper()
	resp, body := e.do("GET", "/api/stations/"+e.slug, "", nil, nil)
	return checkStation(t, want(t, resp, body, http.StatusOK))
}
