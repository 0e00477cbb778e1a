package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/onairfm/onair/internal/guard"
)

// An edge hands every request that needs the database (logins, control,
// uploads, reads, pages) to the origin: method, path, query, headers
// (credentials included) and body go over request/reply, the origin's own
// handler serves it, and its answer comes back as it is. Bodies larger
// than inlineBody travel through the JetStream object store.

// inlineBody is the largest body carried in the message itself; NATS's
// default limit is 1 MiB per message, and JSON grows bytes by a third.
const inlineBody = 512 << 10

type httpReq struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Query  string      `json:"query,omitempty"`
	Host   string      `json:"host"`
	Remote string      `json:"remote"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body,omitempty"`
	Object string      `json:"object,omitempty"` // body in the object store
	TLS    bool        `json:"tls,omitempty"`
}

type httpReply struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body,omitempty"`
	Object string      `json:"object,omitempty"`
}

// hopHeaders are not forwarded: they describe one connection.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func stripHop(h http.Header) http.Header {
	h = h.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	return h
}

// Forward is an edge's handler for what it does not serve itself.
func (n *Node) Forward() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, err := n.forward(w, r)
		if err != nil {
			n.log.Warn("forwarding to the origin failed", "method", r.Method, "path", r.URL.Path, "err", err)
			writeJSONError(w, status, err)
		}
	})
}

func writeJSONError(w http.ResponseWriter, status int, err error) {
	msg := "the origin is not reachable"
	if status == http.StatusRequestEntityTooLarge {
		msg = "request body too large"
	}
	_ = err
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (n *Node) maxBody() int64 {
	// A multipart upload carries up to upload.max_bytes of files plus
	// its part headers.
	if n.MaxUpload > 0 {
		return n.MaxUpload + 1<<20
	}
	return 200<<20 + 1<<20
}

func (n *Node) forward(w http.ResponseWriter, r *http.Request) (int, error) {
	key, cacheable := cacheKey(r)
	if cacheable {
		if reply, ok := n.reads.get(key, time.Now()); ok {
			writeReply(w, reply)
			return 0, nil
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, n.maxBody()))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return http.StatusRequestEntityTooLarge, err
		}
		return http.StatusBadRequest, err
	}
	// The edge's guard has found the client behind any trusted proxy:
	// its word goes as Remote and TLS, and the forwarding headers it read
	// stay here, so the origin does not read them again as its own.
	header := stripHop(r.Header)
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "Forwarded"} {
		header.Del(k)
	}
	req := httpReq{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host,
		Remote: r.RemoteAddr, Header: header, TLS: guard.IsHTTPS(r)}
	timeout := 15 * time.Second
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// Uploads are checked and analysed before the answer.
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	if len(body) > inlineBody {
		name, err := n.putObject(ctx, body)
		if err != nil {
			return http.StatusServiceUnavailable, err
		}
		req.Object = name
	} else {
		req.Body = body
	}
	var reply httpReply
	if err := n.request(ctx, rpcHTTP, req, &reply); err != nil {
		return http.StatusServiceUnavailable, err
	}
	if reply.Object != "" {
		b, err := n.takeObject(ctx, reply.Object)
		if err != nil {
			return http.StatusBadGateway, err
		}
		reply.Body = b
	}
	if reply.Status < 100 || reply.Status > 599 {
		return http.StatusBadGateway, fmt.Errorf("%w: status %d", ErrBadMessage, reply.Status)
	}
	if cacheable && reply.Status == http.StatusOK && reply.Header.Get("Set-Cookie") == "" {
		n.reads.put(key, &reply, time.Now())
	}
	writeReply(w, &reply)
	return 0, nil
}

func writeReply(w http.ResponseWriter, reply *httpReply) {
	for k, v := range stripHop(reply.Header) {
		w.Header()[k] = v
	}
	w.WriteHeader(reply.Status)
	_, _ = w.Write(reply.Body) // the client went away
}

// readCacheTTL is how long an edge answers the public read API from what
// the origin last said: directory pages that poll it cost the origin one
// request a second per edge, not one per visitor. Listener counts in it
// are at most this much older.
const readCacheTTL = time.Second

// cacheKey is the key of an anonymous GET of the station read API; ok is
// false for anything else (credentials make an answer personal).
func cacheKey(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" ||
		!strings.HasPrefix(r.URL.Path, "/api/stations") {
		return "", false
	}
	return r.Host + " " + r.URL.RequestURI(), true
}

// readCache holds recent answers of the public read API.
type readCache struct {
	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	reply *httpReply
	at    time.Time
}

const maxCached = 1024

func (c *readCache) get(key string, now time.Time) (*httpReply, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) > readCacheTTL {
		return nil, false
	}
	return e.reply, true
}

func (c *readCache) put(key string, reply *httpReply, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = map[string]cached{} // past the cap, start afresh
	}
	c.m[key] = cached{reply: reply, at: now}
}

func (n *Node) putObject(ctx context.Context, b []byte) (string, error) {
	obs, err := n.objects(ctx)
	if err != nil {
		return "", fmt.Errorf("cluster: object store: %w", err)
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	name := hex.EncodeToString(id[:])
	if _, err := obs.PutBytes(ctx, name, b); err != nil {
		return "", fmt.Errorf("cluster: put body: %w", err)
	}
	return name, nil
}

// takeObject reads a body and deletes it: each is read once.
func (n *Node) takeObject(ctx context.Context, name string) ([]byte, error) {
	if len(name) != 32 {
		return nil, fmt.Errorf("%w: object name", ErrBadMessage)
	}
	obs, err := n.objects(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: object store: %w", err)
	}
	b, err := obs.GetBytes(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("cluster: get body: %w", err)
	}
	if int64(len(b)) > n.maxBody() {
		return nil, fmt.Errorf("%w: body of %d bytes", ErrBadMessage, len(b))
	}
	_ = obs.Delete(ctx, name)
	return b, nil
}

// serveHTTP serves a forwarded request with the origin's handler.
func (n *Node) serveHTTP(ctx context.Context, data []byte) any {
	fail := func(status int, msg string) httpReply {
		b, _ := json.Marshal(map[string]string{"error": msg})
		return httpReply{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
	}
	var in httpReq
	if err := json.Unmarshal(data, &in); err != nil || !strings.HasPrefix(in.Path, "/") {
		return fail(http.StatusBadRequest, "bad forwarded request")
	}
	if n.Origin.HTTP == nil {
		return fail(http.StatusServiceUnavailable, "the origin serves no HTTP")
	}
	body := in.Body
	if in.Object != "" {
		b, err := n.takeObject(ctx, in.Object)
		if err != nil {
			return fail(http.StatusBadGateway, "request body lost")
		}
		body = b
	}
	target := in.Path
	if in.Query != "" {
		target += "?" + in.Query
	}
	req, err := http.NewRequestWithContext(ctx, in.Method, target, bytes.NewReader(body))
	if err != nil {
		return fail(http.StatusBadRequest, "bad forwarded request")
	}
	req.Header = in.Header
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Host, req.RemoteAddr = in.Host, in.Remote
	if in.TLS {
		// The client reached the edge over https: the origin's handler
		// reads that from r.TLS (Secure cookies, HSTS, https links).
		req.TLS = &tls.ConnectionState{}
	}
	req.ContentLength = int64(len(body))
	rec := &recorder{header: http.Header{}}
	n.Origin.HTTP.ServeHTTP(rec, req)
	out := httpReply{Status: rec.statusOr200(), Header: rec.header}
	if rec.body.Len() > inlineBody {
		name, err := n.putObject(ctx, rec.body.Bytes())
		if err != nil {
			return fail(http.StatusServiceUnavailable, "answer too large to carry")
		}
		out.Object = name
	} else {
		out.Body = rec.body.Bytes()
	}
	return out
}

// recorder is the ResponseWriter a forwarded request is served into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

func (r *recorder) statusOr200() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
