package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
	"github.com/onairfm/onair/control"
	"github.com/onairfm/onair/ingest"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/store"
)

const password = "correct horse battery"

// env is a whole server on 127.0.0.1 over a real store, relay and
// ingester, with four users and one station owned by "owner".
type env struct {
	t      testing.TB
	srv    *Server
	ts     *httptest.Server
	client *http.Client
	db     *store.DB
	relay  *relay.Relay
	auth   *auth.Service
	root   string // the temp dir holding everything
	media  string

	admin, owner, other, listener *onair.User
	token                         map[string]string // by username
	slug                          string            // the owner's station
}

type envOption func(*env)

// withMaxBytes makes the ingester refuse files over n bytes.
func withMaxBytes(n int64) envOption {
	return func(e *env) { e.srv.Control.Ingest.MaxBytes = n }
}

// withServer changes the Server before it serves.
func withServer(f func(*Server)) envOption {
	return func(e *env) { f(e.srv) }
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(root, "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Nested, so that a path escaping it by "../.." would land in root.
	media := filepath.Join(root, "a", "b", "media")
	if err := os.MkdirAll(media, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &relay.Relay{MediaDir: media, ChunkDuration: 100 * time.Millisecond}
	svc := &control.Service{Store: db, Relay: r, Ingest: &ingest.Ingester{MediaDir: media}}
	r.Publisher = svc
	as := &auth.Service{Store: db, Cost: 4}
	e := &env{
		t: t, db: db, relay: r, auth: as, root: root, media: media,
		token: map[string]string{},
		srv: &Server{
			Control: svc,
			Auth:    as,
			Stream:  http.HandlerFunc(r.ServeStream),
			Status:  http.HandlerFunc(r.ServeStatus),
		},
	}
	for _, o := range opts {
		o(e)
	}
	e.ts = httptest.NewServer(e.srv.Handler())
	e.client = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		e.client.CloseIdleConnections()
		e.ts.Close()
		r.Close()
		db.Close()
	})
	// Registered after the closing above, so it runs before it: whatever
	// a test sent, the server still answers.
	t.Cleanup(func() {
		resp, body := e.do("GET", "/healthz", "", nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
			t.Errorf("final /healthz: %d %s", resp.StatusCode, body)
		}
	})

	for _, u := range []struct {
		name string
		role onair.Role
		dst  **onair.User
	}{
		{"admin", onair.RoleAdmin, &e.admin},
		{"owner", onair.RoleOwner, &e.owner},
		{"other", onair.RoleOwner, &e.other},
		{"listener", onair.RoleListener, &e.listener},
	} {
		created, err := as.CreateUser(ctx, u.name, password, u.role)
		if err != nil {
			t.Fatal(err)
		}
		*u.dst = created
		tok, _, err := as.Login(ctx, u.name, password)
		if err != nil {
			t.Fatal(err)
		}
		e.token[u.name] = tok
	}
	st, err := svc.CreateStation(ctx, e.owner, control.NewStation{Name: "Test FM", Description: "Tones all day", Genre: "Sine"})
	if err != nil {
		t.Fatal(err)
	}
	e.slug = st.Slug
	return e
}

// do sends a request. body is sent as is when it is a string or []byte,
// as JSON otherwise; token, when set, goes as a bearer token.
func (e *env) do(method, path, token string, body any, header http.Header) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, b
}

// as sends a request as the named user (bearer); "" is anonymous.
func (e *env) as(user, method, path string, body any) (*http.Response, []byte) {
	e.t.Helper()
	return e.do(method, path, e.token[user], body, nil)
}

// want checks a status and decodes the JSON body.
func want(t testing.TB, resp *http.Response, body []byte, status int) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	if status == http.StatusNoContent {
		if len(body) != 0 {
			t.Fatalf("204 with a body: %q", body)
		}
		return nil
	}
	return decodeObject(t, resp, body)
}

func decodeObject(t testing.TB, resp *http.Response, body []byte) map[string]any {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON: %s", ct, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, body)
	}
	return m
}

// wantError checks a status and an {"error": "..."} body.
func wantError(t testing.TB, resp *http.Response, body []byte, status int) string {
	t.Helper()
	m := want(t, resp, body, status)
	msg, ok := m["error"].(string)
	if !ok || msg == "" {
		t.Fatalf("error answer without an error message: %s", body)
	}
	return msg
}

// JSON types as encoding/json decodes them into any.
const (
	tString = "string"
	tNumber = "number"
	tBool   = "bool"
	tObject = "object"
	tArray  = "array"
	tNull   = "null"
)

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return tString
	case float64:
		return tNumber
	case bool:
		return tBool
	case map[string]any:
		return tObject
	case []any:
		return tArray
	case nil:
		return tNull
	}
	return "?"
}

// checkShape checks that m has each key with its JSON type.
func checkShape(t testing.TB, what string, m map[string]any, shape map[string]string) {
	t.Helper()
	for k, typ := range shape {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s: no %q in %v", what, k, m)
			continue
		}
		if got := jsonKind(v); got != typ {
			t.Errorf("%s: %q is %s (%v), want %s", what, k, got, v, typ)
		}
	}
}

// checkExactKeys checks that m has exactly these keys.
func checkExactKeys(t testing.TB, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(keys)
	if strings.Join(got, ",") != strings.Join(keys, ",") {
		t.Errorf("%s: keys %v, want %v", what, got, keys)
	}
}

// checkTime checks an RFC 3339 UTC time with milliseconds.
func checkTime(t testing.TB, what string, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") || len(s) != len("2006-01-02T15:04:05.000Z") {
		t.Errorf("%s: %q is not RFC 3339 UTC with milliseconds", what, s)
	}
	return tm
}

var userShape = map[string]string{"id": tNumber, "username": tString, "role": tString}

func checkUser(t testing.TB, m map[string]any, name string, role onair.Role) {
	t.Helper()
	checkShape(t, "user", m, userShape)
	checkExactKeys(t, "user", m, "id", "username", "role")
	if m["username"] != name || m["role"] != string(role) {
		t.Errorf("user %v, want %s (%s)", m, name, role)
	}
}

// checkStation checks the contract's Station JSON and returns it.
func checkStation(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	checkShape(t, "station", m, map[string]string{
		"id": tNumber, "slug": tString, "name": tString, "description": tString, "genre": tString,
		"owner": tString, "live": tBool, "listeners": tObject, "show": tString, "streams": tObject,
		"audio": tObject,
	})
	if a, ok := m["audio"].(map[string]any); ok {
		checkShape(t, "audio", a, map[string]string{
			"sample_rate": tNumber, "mp3_bitrate": tNumber, "crossfade_ms": tNumber, "loudness": tObject, "jingle_every": tNumber,
		})
		if l, ok := a["loudness"].(map[string]any); ok {
			checkShape(t, "audio.loudness", l, map[string]string{"enabled": tBool, "target_lufs": tNumber})
		}
	}
	np, ok := m["now_playing"]
	if !ok {
		t.Errorf("station: no now_playing in %v", m)
	}
	if l, ok := m["listeners"].(map[string]any); ok {
		checkShape(t, "listeners", l, map[string]string{"total": tNumber, "http": tNumber, "webrtc": tNumber})
	}
	slug, _ := m["slug"].(string)
	if s, ok := m["streams"].(map[string]any); ok {
		for k, v := range map[string]string{"mp3": "/stream/" + slug, "opus": "/stream/" + slug + ".opus", "m3u": "/stream/" + slug + ".m3u", "pls": "/stream/" + slug + ".pls"} {
			if s[k] != v {
				t.Errorf("streams.%s = %v, want %s", k, s[k], v)
			}
		}
	}
	switch np := np.(type) {
	case nil:
		if m["live"] == true {
			t.Errorf("a live station with now_playing null: %v", m)
		}
	case map[string]any:
		checkShape(t, "now_playing", np, map[string]string{
			"track_id": tNumber, "title": tString, "artist": tString, "album": tString,
			"duration_ms": tNumber, "started_at": tString, "source": tString,
		})
		if art, ok := np["art"]; !ok || (art != nil && jsonKind(art) != tString) {
			t.Errorf("now_playing.art is %v, want a path or null", art)
		}
		checkTime(t, "now_playing.started_at", np["started_at"])
	default:
		t.Errorf("now_playing is %T, want null or an object", np)
	}
	return m
}

// checkTrack checks the contract's Track JSON.
func checkTrack(t testing.TB, m map[string]any) {
	t.Helper()
	checkShape(t, "track", m, map[string]string{
		"id": tNumber, "title": tString, "artist": tString, "album": tString, "duration_ms": tNumber,
		"bitrate": tNumber, "sample_rate": tNumber, "channels": tNumber, "filename": tString,
		"format": tString, "kind": tString,
	})
	// Null until analysed (or without art), numbers or a path after.
	for k, typ := range map[string]string{"loudness_lufs": tNumber, "peak_dbtp": tNumber, "cue_in_ms": tNumber, "cue_out_ms": tNumber, "art": tString} {
		v, ok := m[k]
		if got := jsonKind(v); !ok || (got != tNull && got != typ) {
			t.Errorf("track: %q is %v, want %s or null", k, v, typ)
		}
	}
}

// objects returns m[key] as a list of objects.
func objects(t testing.TB, m map[string]any, key string) []map[string]any {
	t.Helper()
	list, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%q is %T, want an array: %v", key, m[key], m)
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%q[%d] is %T, want an object", key, i, v)
		}
		out[i] = o
	}
	return out
}

func id(m map[string]any) int64 {
	f, _ := m["id"].(float64)
	return int64(f)
}

// filePart is one part of a multipart upload.
type filePart struct {
	field, name string
	data        []byte
}

func file(name string, data []byte) filePart { return filePart{"file", name, data} }

func fixture(t testing.TB, name string) []byte { return audiotest.Fixture(t, name) }

// multipartBody encodes parts; it returns the body and its content type.
func multipartBody(t testing.TB, parts ...filePart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.name == "" {
			w, err = mw.CreateFormField(p.field)
		} else {
			w, err = mw.CreateFormFile(p.field, p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// upload posts files to the station as user.
func (e *env) upload(user, slug string, parts ...filePart) (*http.Response, []byte) {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts...)
	return e.do("POST", "/api/stations/"+slug+"/tracks", e.token[user], body, http.Header{"Content-Type": {ct}})
}

// tracks lists the station's tracks through the API.
func (e *env) tracks(slug string) []map[string]any {
	e.t.Helper()
	resp, body := e.as("", "GET", "/api/stations/"+slug+"/tracks", nil)
	return objects(e.t, want(e.t, resp, body, http.StatusOK), "tracks")
}

func trackIDs(tracks []map[string]any) []int64 {
	ids := make([]int64, len(tracks))
	for i, tr := range tracks {
		ids[i] = id(tr)
	}
	return ids
}

// files lists every file under the env's root but the database, relative
// to the root: media files, temporary uploads, and anything that escaped
// the media dir.
func (e *env) files() []string {
	e.t.Helper()
	var out []string
	err := filepath.WalkDir(e.root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), "onair.db") {
			rel, _ := filepath.Rel(e.root, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// addTracks uploads fixtures to the owner's station and returns their ids.
func (e *env) addTracks(names ...string) []int64 {
	e.t.Helper()
	var parts []filePart
	for _, n := range names {
		parts = append(parts, file(n, fixture(e.t, n)))
	}
	resp, body := e.upload("owner", e.slug, parts...)
	return trackIDs(objects(e.t, want(e.t, resp, body, http.StatusCreated), "tracks"))
}
