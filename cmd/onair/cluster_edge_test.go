package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/client"
	"github.com/onairfm/onair/internal/testutil"
)

// An edge's own HTTP server enforces what the origin's does, with the
// same code (package guard, cmd/onair/front.go).

// openStream starts listening to url with extra headers; it returns the
// status and, for 200, the body to close, with the refusal's message
// otherwise.
func openStream(t *testing.T, url string, h http.Header) (int, io.Closer, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil { // really listening
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp.StatusCode, resp.Body, ""
	}
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	return resp.StatusCode, nil, body.Error
}

// TestEdgeLimitsLikeOrigin: limits.streams_per_ip and sockets_per_ip hold
// on an edge as on the origin, and a trusted proxy's X-Forwarded-For names
// the client there, for the caps and for the requests it forwards.
func TestEdgeLimitsLikeOrigin(t *testing.T) {
	addr := freePort(t)
	limits := func(c *configs.Config) {
		c.Limits.StreamsPerIP, c.Limits.SocketsPerIP = 2, 2
		c.HTTP.TrustedProxies = []string{"127.0.0.1"}
	}
	origin := startNode(t, "origin", "origin", func(c *configs.Config) { limits(c); c.Cluster.EmbeddedNATS = addr })
	edge := startNode(t, "edge", "edge-1", func(c *configs.Config) { limits(c); c.Cluster.NATSURL = "nats://" + addr })
	tok := origin.owner("deejay")
	slug, _ := origin.liveStation(tok, "Capped FM", "tone440.mp3")
	testutil.Eventually(t, 10*time.Second, "the station on the edge", func() bool { return streamStatus(edge.URL+"/stream/"+slug) == 200 })

	proxied := func(client string) http.Header { return http.Header{"X-Forwarded-For": {"203.0.113.250, " + client}} }
	for _, n := range []*server{origin, edge} {
		url := n.URL + "/stream/" + slug
		var open []io.Closer
		for i := range 2 {
			st, body, msg := openStream(t, url, nil)
			if st != 200 {
				t.Fatalf("%s: listener %d: %d %q", n.URL, i, st, msg)
			}
			open = append(open, body)
		}
		if st, _, msg := openStream(t, url+".opus", nil); st != http.StatusTooManyRequests || !strings.Contains(msg, "too many streams") {
			t.Fatalf("%s: third stream from one address: %d %q", n.URL, st, msg)
		}
		// Through the trusted proxy, another client has slots of its own,
		// and only those.
		for i := range 2 {
			if st, _, msg := openStream(t, url, proxied("198.51.100.7")); st != 200 {
				t.Fatalf("%s: proxied listener %d: %d %q", n.URL, i, st, msg)
			}
		}
		if st, _, _ := openStream(t, url, proxied("198.51.100.7")); st != http.StatusTooManyRequests {
			t.Fatalf("%s: third proxied stream of one client: %d", n.URL, st)
		}
		open[0].Close()
		testutil.Eventually(t, 10*time.Second, "a slot after one listener left", func() bool {
			st, _, _ := openStream(t, url, nil)
			return st == 200
		})

		// Sockets: two from one address, the third refused.
		for i := range 2 {
			ws, _, err := wsDial(t, n, "")
			if err != nil {
				t.Fatalf("%s: socket %d: %v", n.URL, i, err)
			}
			defer ws.Close()
		}
		if _, resp, err := wsDial(t, n, ""); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: third socket: %v %v", n.URL, resp, err)
		}
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
		ws, _, err := d.Dial(n.wsURL(), proxied("198.51.100.8"))
		if err != nil {
			t.Fatalf("%s: a proxied client's socket: %v", n.URL, err)
		}
		ws.Close()
	}

	// A forwarded request carries the client the edge found: the origin's
	// login rate limit counts the proxied client, not the proxy.
	bad := map[string]string{"username": "admin", "password": "wrong-password"}
	login := func(client string) int {
		b, _ := json.Marshal(bad)
		req, _ := http.NewRequest("POST", edge.URL+"/api/auth/login", bytes.NewReader(b))
		req.Header = proxied(client)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	limited := false
	for range 20 {
		if login("198.51.100.9") == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("20 bad logins through the edge were not rate limited")
	}
	if st := login("198.51.100.10"); st != http.StatusUnauthorized {
		t.Fatalf("another proxied client after the first was limited: %d, want 401", st)
	}
	if st := edge.do("POST", "/api/auth/login", "", bad, nil); st != http.StatusUnauthorized {
		t.Fatalf("the proxy's own address after a proxied client was limited: %d, want 401", st)
	}
}

// TestEdgeConnectionCap: http.max_conns and http.read_timeout hold on an
// edge: with max_conns connections open the next one waits, and a client
// trickling its headers is cut off.
func TestEdgeConnectionCap(t *testing.T) {
	addr := freePort(t)
	startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.EmbeddedNATS = addr })
	edge := startNode(t, "edge", "edge-1", func(c *configs.Config) {
		c.Cluster.NATSURL = "nats://" + addr
		c.HTTP.MaxConns = 2
		c.HTTP.ReadTimeout = time.Second
	})
	http.DefaultClient.CloseIdleConnections() // startNode's login held one
	host := strings.TrimPrefix(edge.URL, "http://")
	held := holdConnCap(t, host, 2)
	held[0].Close()

	// A slow client takes the freed slot and is cut off after
	// read_timeout, which frees it again.
	slow, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	slow.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.ReadAll(slow); isTimeout(err) {
		t.Fatal("a client trickling its headers was not cut off")
	}
	servedWithin10s(t, edge.URL, "after the slow client was cut off")
}

// TestEdgeTLS: tls.cert_file and tls.key_file make an edge serve https and
// wss, its own routes and the forwarded ones, with HSTS and a Secure
// session cookie.
func TestEdgeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	addr := freePort(t)
	origin := startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.EmbeddedNATS = addr })
	edge := startNode(t, "edge", "edge-1", func(c *configs.Config) {
		c.Cluster.NATSURL = "nats://" + addr
		c.TLS.CertFile, c.TLS.KeyFile = certFile, keyFile
	})
	tok := origin.owner("deejay")
	slug, _ := origin.liveStation(tok, "Secure FM", "tone440.mp3")
	tlsConf := &tls.Config{RootCAs: pool}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	defer client.CloseIdleConnections()
	var resp *http.Response
	var err error
	testutil.Eventually(t, 20*time.Second, "the station over https on the edge", func() bool {
		resp, err = client.Get(edge.URL + "/stream/" + slug)
		if err != nil {
			return false
		}
		if resp.StatusCode != 200 {
			resp.Body.Close()
			return false
		}
		return true
	})
	if _, err := io.ReadFull(resp.Body, make([]byte, 4000)); err != nil || resp.TLS == nil ||
		resp.Header.Get("icy-name") != "Secure FM" || !strings.HasPrefix(resp.Header.Get("icy-url"), "https://") {
		t.Fatalf("stream over https: %v, TLS %v, headers %v", err, resp.TLS != nil, resp.Header)
	}
	resp.Body.Close()
	resp, err = client.Get(edge.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("healthz over https: %d, headers %v", resp.StatusCode, resp.Header)
	}

	// A forwarded login: the origin hears it came over https.
	b, _ := json.Marshal(map[string]string{"username": "admin", "password": adminPassword})
	resp, err = client.Post(edge.URL+"/api/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Cookies(); resp.StatusCode != 200 || len(c) != 1 || !c[0].Secure || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("login over https through the edge: %d, cookies %v, headers %v", resp.StatusCode, c, resp.Header)
	}

	d := websocket.Dialer{TLSClientConfig: tlsConf, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial("wss://"+strings.TrimPrefix(edge.URL, "https://")+"/ws", nil)
	if err != nil {
		t.Fatalf("wss on the edge: %v", err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"event": "stream:join", "data": map[string]string{"station": slug}})
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var first struct{ Event string }
	if err := ws.ReadJSON(&first); err != nil || first.Event != "stream:live" {
		t.Fatalf("join over wss: %+v %v", first, err)
	}

	// Plain HTTP on the TLS port is not served.
	if resp, err := http.Get("http://" + strings.TrimPrefix(edge.URL, "https://") + "/healthz"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served on the edge's TLS address")
		}
		resp.Body.Close()
	}
}

// TestEdgeRefusesSources: an Icecast source client (ffmpeg, PUT and legacy
// SOURCE) that connects to an edge is refused with a status line that
// names the origin's mount; the same client on the origin goes on air and
// every node shows it. A WHIP publisher through an edge is forwarded to the
// origin like the rest of the API, and its media goes to the origin.
func TestEdgeRefusesSources(t *testing.T) {
	ff := testutil.NeedTool(t, "ffmpeg")
	addr := freePort(t)
	const public = "https://origin.example.org" // named to the client, never dialled
	origin := startNode(t, "origin", "origin", func(c *configs.Config) {
		c.Cluster.EmbeddedNATS = addr
		c.HTTP.PublicURL = public
	})
	edge := startNode(t, "edge", "edge-1", func(c *configs.Config) { c.Cluster.NATSURL = "nats://" + addr })
	tok := origin.owner("deejay")
	slug, _ := origin.liveStation(tok, "Source FM", "tone440.mp3")
	origin.must(201, "POST", "/api/stations/"+slug+"/streamers", tok,
		map[string]string{"username": "guest", "password": "guest-password", "display_name": "DJ Guest"}, nil)
	testutil.Eventually(t, 10*time.Second, "the station on the edge", func() bool { return streamStatus(edge.URL+"/stream/"+slug) == 200 })

	source := func(ctx context.Context, base string, extra ...string) *exec.Cmd {
		args := append([]string{"-hide_banner", "-loglevel", "warning", "-nostdin", "-re", "-f", "lavfi",
			"-i", "sine=frequency=1000:sample_rate=44100", "-t", "60", "-c:a", "libmp3lame", "-b:a", "128k",
			"-f", "mp3", "-content_type", "audio/mpeg"}, extra...)
		args = append(args, "icecast://guest:guest-password@"+strings.TrimPrefix(base, "http://")+"/stream/"+slug)
		return exec.CommandContext(ctx, ff, args...)
	}
	want := "connect your source to " + public + "/stream/" + slug
	for _, extra := range [][]string{nil, {"-legacy_icecast", "1"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := source(ctx, edge.URL, extra...).CombinedOutput()
		late := ctx.Err()
		cancel()
		if err == nil || late != nil {
			t.Fatalf("ffmpeg %v on the edge: %v (deadline %v)\n%s", extra, err, late, out)
		}
		if len(extra) == 0 && !strings.Contains(string(out), want) {
			// Legacy SOURCE clients only look for 200; ffmpeg shows
			// the status line of a PUT.
			t.Fatalf("ffmpeg's output does not say where to connect (%q):\n%s", want, out)
		}
	}
	// What a legacy client reads: the status line says it all.
	c, err := net.Dial("tcp", strings.TrimPrefix(edge.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "SOURCE /stream/"+slug+" HTTP/1.0\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3QtcGFzc3dvcmQ=\r\nContent-Type: audio/mpeg\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.0 403 ") || !strings.Contains(line, want) {
		t.Fatalf("legacy source's answer %q", line)
	}
	if kind, _ := edge.sourceOf(slug); kind != "" {
		t.Fatalf("a refused source is on air: %q", kind)
	}

	// The same client on the origin is on air, and the edge shows it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := source(ctx, origin.URL)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	testutil.Eventually(t, 20*time.Second, "the source on air, seen on the edge", func() bool {
		kind, who := edge.sourceOf(slug)
		return kind == "icecast" && who == "DJ Guest"
	})
	cancel()
	_ = cmd.Wait()
	testutil.Eventually(t, 20*time.Second, "the playlist back", func() bool { kind, _ := edge.sourceOf(slug); return kind == "" })

	// WHIP through the edge: the offer is forwarded, the answer is the
	// origin's, and the publisher goes on air there.
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	p, err := client.PublishWHIP(wctx, edge.URL+"/api/stations/"+slug+"/whip", bearer(tok), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sctx, stop := context.WithCancel(wctx)
	sent := make(chan error, 1)
	go func() { sent <- p.Stream(sctx, sineFrames(1000, 0.3)) }()
	defer func() { stop(); <-sent }()
	if err := p.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "the WHIP publisher on air, seen on the edge", func() bool {
		kind, who := edge.sourceOf(slug)
		return kind == "whip" && who == "deejay"
	})
}

// TestClusterChatIDs: chat messages sent on two nodes at once and seen on a
// third have distinct IDs, and the history a later join gets there is in
// ID order with each message once.
func TestClusterChatIDs(t *testing.T) {
	addr := freePort(t)
	origin := startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.EmbeddedNATS = addr })
	edge := func(name string) *server {
		return startNode(t, "edge", name, func(c *configs.Config) { c.Cluster.NATSURL = "nats://" + addr })
	}
	e1, e2 := edge("edge-1"), edge("edge-2")
	tok := origin.owner("deejay")
	slug, _ := origin.liveStation(tok, "Chat FM", "tone440.mp3")
	for _, name := range []string{"ann", "ben"} {
		origin.must(201, "POST", "/api/auth/register", "", map[string]string{"username": name, "password": name + "-password"}, nil)
	}
	ann, ben := e1.dial(t, origin.login("ann", "ann-password")), origin.dial(t, origin.login("ben", "ben-password"))
	observer := e2.dial(t, "")
	for _, c := range []*client.Socket{ann, ben, observer} {
		c.Send("stream:join", map[string]string{"station": slug})
		waitFor(t, c, "stream:listeners", nil)
	}
	const each = 4 // under the chat burst
	for i := range each {
		ann.Send("chat:send", map[string]string{"station": slug, "text": fmt.Sprintf("ann %d", i)})
		ben.Send("chat:send", map[string]string{"station": slug, "text": fmt.Sprintf("ben %d", i)})
	}
	type chat struct {
		ID   int64
		Text string
	}
	read := func(sock *client.Socket, n int) []chat {
		var out []chat
		for len(out) < n {
			var c chat
			waitFor(t, sock, "chat:message", nil).Decode(&c)
			out = append(out, c)
		}
		return out
	}
	seen := read(observer, 2*each)
	ids := map[int64]string{}
	for _, c := range seen {
		if other, dup := ids[c.ID]; dup {
			t.Fatalf("id %d given to %q and %q", c.ID, other, c.Text)
		}
		ids[c.ID] = c.Text
	}

	late := e2.dial(t, "")
	late.Send("stream:join", map[string]string{"station": slug})
	history := read(late, 2*each)
	texts := map[string]bool{}
	for i, c := range history {
		if i > 0 && c.ID <= history[i-1].ID {
			t.Fatalf("history out of order or repeated: %+v", history)
		}
		if ids[c.ID] != c.Text {
			t.Fatalf("history has %d %q, the room saw %q", c.ID, c.Text, ids[c.ID])
		}
		texts[c.Text] = true
	}
	if len(texts) != 2*each {
		t.Fatalf("history %+v", history)
	}
}

// clusterSeries are the /metrics families that are the cluster's, the same
// on every node, without this node's label; every other series is the
// node's own and carries node="NAME".
var clusterSeries = map[string]bool{"onair_live_stations": true, "onair_listeners": true, "onair_cluster_nodes": true, "onair_node_listeners": true}

var seriesRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)

// TestClusterMetrics: on the origin and on an edge, the cluster's series
// count the whole cluster and carry no node label (onair_node_listeners
// names the node each figure is about), and every series of the node's
// own carries its name.
func TestClusterMetrics(t *testing.T) {
	addr := freePort(t)
	origin := startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.EmbeddedNATS = addr })
	edge := startNode(t, "edge", "edge-1", func(c *configs.Config) { c.Cluster.NATSURL = "nats://" + addr })
	tok := origin.owner("deejay")
	slug, _ := origin.liveStation(tok, "Metric FM", "tone440.mp3")
	testutil.Eventually(t, 10*time.Second, "the station on the edge", func() bool { return streamStatus(edge.URL+"/stream/"+slug) == 200 })
	if st, _, msg := openStream(t, edge.URL+"/stream/"+slug, nil); st != 200 {
		t.Fatalf("listener on the edge: %d %q", st, msg)
	}
	for _, n := range []struct {
		s    *server
		name string
		own  []string // series of its own that must be there
	}{
		{origin, "origin", []string{`onair_cluster_connected{node="origin"} 1`, `onair_http_listener_connects_total{node="origin"} 0`}},
		{edge, "edge-1", []string{`onair_cluster_connected{node="edge-1"} 1`, `onair_http_listener_connects_total{node="edge-1"} 1`}},
	} {
		var text string
		testutil.Eventually(t, 15*time.Second, "cluster-wide counts at "+n.name, func() bool {
			text = get(t, n.s.URL+"/metrics")
			return strings.Contains(text, `onair_listeners{transport="http"} 1`+"\n") &&
				strings.Contains(text, `onair_node_listeners{node="edge-1",transport="http"} 1`+"\n") &&
				strings.Contains(text, `onair_node_listeners{node="origin",transport="http"} 0`+"\n") &&
				strings.Contains(text, "onair_cluster_nodes 2\n") && strings.Contains(text, "onair_live_stations 1\n")
		})
		for _, want := range append(n.own, `onair_websocket_connections{node="`+n.name+`"}`, `go_goroutines{node="`+n.name+`"}`) {
			if !strings.Contains(text, want) {
				t.Errorf("%s: no %s", n.name, want)
			}
		}
		for line := range strings.Lines(text) {
			line = strings.TrimSuffix(line, "\n")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			m := seriesRE.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: unreadable series %q", n.name, line)
			}
			family, labels := m[1], m[2]
			switch {
			case family == "onair_node_listeners":
				if !strings.Contains(labels, `node="origin"`) && !strings.Contains(labels, `node="edge-1"`) {
					t.Errorf("%s: %s", n.name, line)
				}
			case clusterSeries[family]:
				if strings.Contains(labels, "node=") {
					t.Errorf("%s: a cluster-wide series with a node label: %s", n.name, line)
				}
			case !strings.Contains(labels, `node="`+n.name+`"`):
				t.Errorf("%s: a series of its own without its node label: %s", n.name, line)
			}
		}
	}
}
