package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/nope", http.StatusNotFound, ""},
		{"POST", "/api/nope", http.StatusNotFound, ""},
		{"GET", "/api/stations/" + e.slug + "/nope", http.StatusNotFound, ""},
		{"GET", "/nope", http.StatusNotFound, ""},
		{"GET", "/stream/a/b", http.StatusNotFound, ""},
		{"DELETE", "/api/me", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"PUT", "/api/stations", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"GET", "/api/auth/login", http.StatusMethodNotAllowed, "POST"},
		{"POST", "/api/stations/" + e.slug, http.StatusMethodNotAllowed, "GET, HEAD, PATCH, DELETE"},
		{"GET", "/api/stations/" + e.slug + "/start", http.StatusMethodNotAllowed, "POST"},
		{"GET", "/api/stations/" + e.slug + "/playlist", http.StatusMethodNotAllowed, "PUT"},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"POST", "/status-json.xsl", http.StatusMethodNotAllowed, "GET, HEAD"},
	} {
		resp, body := e.as("owner", c.method, c.path, nil)
		wantError(t, resp, body, c.status)
		if got := resp.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestMalformedJSON(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"syntax", `{"username":`, http.StatusBadRequest, "invalid JSON"},
		{"garbage", `username=owner`, http.StatusBadRequest, "invalid JSON"},
		{"wrong type", `{"username": 5, "password": "x"}`, http.StatusBadRequest, `"username" must be a string`},
		{"array", `["owner"]`, http.StatusBadRequest, "expected an object"},
		{"trailing", `{"username":"owner","password":"x"} {}`, http.StatusBadRequest, "after the object"},
		{"empty", ``, http.StatusBadRequest, "empty"},
		{"too large", `{"username":"` + strings.Repeat("a", maxJSONBody) + `"}`, http.StatusRequestEntityTooLarge, "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.do("POST", "/api/auth/login", "", c.body, nil)
			if msg := wantError(t, resp, body, c.status); !strings.Contains(msg, c.says) {
				t.Errorf("message %q, want it to say %q", msg, c.says)
			}
		})
	}
	// Unknown fields and any content type are accepted.
	resp, body := e.do("POST", "/api/stations", e.token["owner"], `{"name":"Extra FM","colour":"blue"}`,
		http.Header{"Content-Type": {"text/plain"}})
	want(t, resp, body, http.StatusCreated)
}

// FuzzDecodeJSON checks that no body makes decoding fail as anything but
// the client's fault.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"track_ids":[1,2]}`, `{`, `[]`, `null`, `{"track_ids":"x"}`, `{} x`, ``, `{"track_ids":[1e400]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var v struct {
			TrackIDs []int64        `json:"track_ids"`
			Name     *string        `json:"name"`
			Flag     *bool          `json:"flag"`
			Any      map[string]any `json:"any"`
		}
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		err := decodeJSON(httptest.NewRecorder(), r, &v, false)
		if code := onair.ErrorCode(err); err != nil && code != onair.EInvalid && code != onair.ETooLarge {
			t.Fatalf("%q: %v (%s)", body, err, code)
		}
		if err == nil && !json.Valid([]byte(body)) {
			t.Fatalf("%q accepted but not valid JSON", body)
		}
	})
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLines decodes the JSON log lines.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func (b *syncBuffer) find(t *testing.T, msg, path string) map[string]any {
	t.Helper()
	for _, l := range b.lines(t) {
		if l["msg"] == msg && l["path"] == path {
			return l
		}
	}
	return nil
}

func TestRequestLog(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, withServer(func(s *Server) {
		s.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	e.addTracks("tone440.mp3")
	resp, body := e.as("", "GET", "/api/stations/nope", nil)
	wantError(t, resp, body, http.StatusNotFound)
	var line map[string]any
	testutil.Eventually(t, 5*time.Second, "the request's log line", func() bool {
		line = logs.find(t, "http request", "/api/stations/nope")
		return line != nil
	})
	if line["method"] != "GET" || line["status"] != 404.0 || line["duration"] == nil {
		t.Errorf("log line %v", line)
	}

	resp, body = e.as("owner", "POST", "/api/stations/"+e.slug+"/start", nil)
	want(t, resp, body, http.StatusOK)
	sresp, err := e.client.Get(e.ts.URL + "/stream/" + e.slug)
	if err != nil {
		t.Fatal(err)
	}
	sresp.Body.Close()
	testutil.Eventually(t, 5*time.Second, "the stream's log line", func() bool {
		line = logs.find(t, "http request", "/stream/"+e.slug)
		return line != nil
	})
	if line["hijacked"] != true || line["duration"] != nil {
		t.Errorf("stream log line %v, want hijacked without a duration", line)
	}
}

func TestInternalErrorsAreHidden(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, withServer(func(s *Server) { s.Logger = slog.New(slog.NewJSONHandler(logs, nil)) }))
	e.db.Close() // every query now fails
	resp, body := e.as("", "GET", "/api/stations", nil)
	if msg := wantError(t, resp, body, http.StatusInternalServerError); msg != "internal error" {
		t.Errorf("the client was shown %q", msg)
	}
	testutil.Eventually(t, 5*time.Second, "the error logged", func() bool {
		return logs.find(t, "request failed", "/api/stations") != nil
	})
	if l := logs.find(t, "request failed", "/api/stations"); !strings.Contains(l["err"].(string), "closed") {
		t.Errorf("logged %v, want the cause", l)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, withServer(func(s *Server) {
		s.Logger = slog.New(slog.NewJSONHandler(logs, nil))
		s.WS = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("boom") // a handler bug
		})
	}))
	resp, body := e.as("", "GET", "/ws", nil)
	if msg := wantError(t, resp, body, http.StatusInternalServerError); msg != "internal error" {
		t.Errorf("message %q", msg)
	}
	testutil.Eventually(t, 5*time.Second, "the panic logged", func() bool {
		return logs.find(t, "handler panicked", "/ws") != nil
	})
	// The final /healthz of the env checks the server still serves.
}

func TestStatusOf(t *testing.T) {
	for code, status := range map[onair.Code]int{
		onair.EInvalid: 400, onair.EUnauthorized: 401, onair.EForbidden: 403, onair.ENotFound: 404,
		onair.EConflict: 409, onair.ETooLarge: 413, onair.EUnsupported: 415, onair.EUnprocessable: 422,
		onair.ERateLimited: 429, onair.EInternal: 500, "something new": 500,
	} {
		if got := statusOf(code); got != status {
			t.Errorf("%s → %d, want %d", code, got, status)
		}
	}
}
