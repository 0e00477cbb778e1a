package main

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onairfm/onair/cluster"
	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/client"
	"github.com/onairfm/onair/internal/testutil"
)

// startNode starts a cluster node in the test process: an origin (with
// the admin account) or an edge.
func startNode(t *testing.T, role, name string, set func(*configs.Config)) *server {
	t.Helper()
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Admin.Password = adminPassword
	cfg.WebRTC.LoopbackOnly = true
	cfg.Cluster.Role, cfg.Cluster.Node = role, name
	set(&cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https" // the caller talks to it with its own client
	}
	s := &server{t: t, URL: scheme + "://" + ln.Addr().String(), dataDir: cfg.DataDir, cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", name)
	}
	go func() { s.done <- serve(ctx, &cfg, ln, log) }()
	t.Cleanup(s.stop)
	if scheme == "http" {
		s.admin = s.login("admin", adminPassword) // through the edge's forwarding, for an edge
	}
	return s
}

// natsServer runs Debian's nats-server with JetStream on a free loopback
// port.
func natsServer(t *testing.T) string {
	t.Helper()
	return runNATSServer(t, "-js", "-sd", t.TempDir())
}

// runNATSServer runs Debian's nats-server on a free loopback port with
// args, stops it when t ends, and returns its URL once it listens.
func runNATSServer(t *testing.T, args ...string) string {
	t.Helper()
	bin := testutil.NeedTool(t, "nats-server")
	_, port, _ := net.SplitHostPort(freePort(t))
	cmd := exec.Command(bin, append([]string{"-a", "127.0.0.1", "-p", port}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	testutil.Eventually(t, 10*time.Second, "nats-server to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "nats://127.0.0.1:" + port
}

func TestClusterEmbeddedNATS(t *testing.T) {
	addr := freePort(t)
	origin := startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.EmbeddedNATS = addr })
	testCluster(t, origin, "nats://"+addr)
}

func TestClusterDebianNATS(t *testing.T) {
	url := natsServer(t)
	origin := startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.NATSURL = url })
	testCluster(t, origin, url)
}

// streamStatus is the answer to HEAD /stream/SLUG.
func streamStatus(url string) int {
	resp, err := http.Head(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func testCluster(t *testing.T, origin *server, url string) {
	edge := func(name string) *server {
		return startNode(t, "edge", name, func(c *configs.Config) { c.Cluster.NATSURL = url })
	}
	e1, e2 := edge("edge-1"), edge("edge-2")
	tok := origin.owner("deejay")
	slug, _ := origin.liveStation(tok, "Cluster FM", "tone440.mp3", "tone880.mp3")
	for _, e := range []*server{e1, e2} {
		testutil.Eventually(t, 10*time.Second, "the station on an edge", func() bool { return streamStatus(e.URL+"/stream/"+slug) == 200 })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// An HTTP listener on edge 1 hears the station, titled as on the origin.
	l1 := listenICY(t, ctx, e1.URL+"/stream/"+slug)
	if l1.Resp.Header.Get("icy-name") != "Cluster FM" {
		t.Fatalf("edge headers %v", l1.Resp.Header)
	}
	l1.ReadUntil("2 s of audio", func() bool { return len(l1.Audio) >= 32000 })
	if got := l1.Reader.Title(); got != "Test Artist - Tone 440" {
		t.Fatalf("edge title %q", got)
	}
	if f := heard(t, l1.Audio); f != 440 {
		t.Fatalf("edge listener heard %v Hz, want 440", f)
	}

	// A pion listener through edge 2's socket hears it too.
	rtcSock := e2.dial(t, "")
	rtcSock.Send("stream:join", map[string]string{"station": slug})
	expect(t, rtcSock, "stream:live", "stream:metadata", "stream:listeners")
	l := listenRTC(t, rtcSock, slug, true)
	testutil.Eventually(t, 20*time.Second, "3 s of decoded Opus via the edge", func() bool { return l.Decoded() >= 3 })
	start := l.FirstPacket()
	if f, share := toneOf(l.Samples(start.Add(500*time.Millisecond), start.Add(2500*time.Millisecond))); f != 440 || share < 0.5 {
		t.Fatalf("edge WebRTC listener heard %v Hz (%.2f), want 440", f, share)
	}

	// Counts add up over the nodes, wherever they are read.
	for _, n := range []*server{origin, e1, e2} {
		testutil.Eventually(t, 15*time.Second, "cluster-wide counts at "+n.URL, func() bool {
			var st stationJSON
			n.do("GET", "/api/stations/"+slug, "", nil, &st)
			return st.Listeners.HTTP == 1 && st.Listeners.WebRTC == 1 && st.Listeners.Total == 2
		})
		testutil.Eventually(t, 15*time.Second, "status page counts at "+n.URL, func() bool {
			return strings.Contains(get(t, n.URL+"/status-json.xsl"), `"listeners":2`)
		})
		testutil.Eventually(t, 15*time.Second, "metrics at "+n.URL, func() bool {
			m := get(t, n.URL+"/metrics")
			return strings.Contains(m, `onair_listeners{transport="http"} 1`) && strings.Contains(m, `onair_listeners{transport="webrtc"} 1`) &&
				strings.Contains(m, `onair_node_listeners{node="edge-1",transport="http"} 1`)
		})
	}
	waitFor(t, rtcSock, "stream:listeners", func(m client.Message) bool { return has(m, `"count":2`) })

	// Chat and likes sent on edge 1 reach sockets on the origin and edge 2.
	e1.must(201, "POST", "/api/auth/register", "", map[string]string{"username": "fan", "password": "fan-password"}, nil)
	fanTok := e1.login("fan", "fan-password")
	fan := e1.dial(t, fanTok)
	originSock := origin.dial(t, "")
	for _, c := range []*client.Socket{fan, originSock} {
		c.Send("stream:join", map[string]string{"station": slug})
		waitFor(t, c, "stream:listeners", nil)
	}
	fan.Send("chat:send", map[string]string{"station": slug, "text": "hello from edge 1"})
	for _, c := range []*client.Socket{originSock, rtcSock} {
		m := waitFor(t, c, "chat:message", func(m client.Message) bool { return has(m, "hello from edge 1") })
		if !has(m, `"user":"fan"`) {
			t.Fatalf("chat message %s", m.Data)
		}
	}
	fan.Send("interaction:send", map[string]string{"station": slug, "type": "like"})
	for _, c := range []*client.Socket{originSock, rtcSock} {
		waitFor(t, c, "interaction:count", func(m client.Message) bool { return has(m, `"count":1`) })
	}

	// A skip on edge 2 (REST, forwarded) reaches the sockets and the
	// stream of the other nodes.
	e2.must(200, "POST", "/api/stations/"+slug+"/skip", tok, nil, nil)
	waitFor(t, originSock, "stream:metadata", func(m client.Message) bool { return has(m, `"Tone 880"`) })
	waitFor(t, fan, "stream:metadata", func(m client.Message) bool { return has(m, `"Tone 880"`) })
	l1.ReadUntil("the next title on edge 1", func() bool { _, ok := l1.TitleAt("Test Artist - Tone 880", 0); return ok })
	at, _ := l1.TitleAt("Test Artist - Tone 880", 0)
	l1.ReadUntil("2 s of the next track", func() bool { return int64(len(l1.Audio)) >= at+32000 })
	if f := heard(t, l1.Audio[at:]); f != 880 {
		t.Fatalf("after the title change edge 1 heard %v Hz, want 880", f)
	}

	// Control over an edge's socket: the owner's works, an anonymous one
	// is refused by the origin.
	owner := e1.dial(t, tok)
	owner.Send("stream:update-metadata", map[string]string{"station": slug, "show": "Edge Show"}, "m1")
	if m := waitFor(t, owner, "ack", nil); m.Ref != "m1" {
		t.Fatalf("owner's update: %s", m.Data)
	}
	testutil.Eventually(t, 10*time.Second, "the show on the origin", func() bool {
		var st stationJSON
		origin.do("GET", "/api/stations/"+slug, "", nil, &st)
		return st.Show == "Edge Show"
	})
	anon := e2.dial(t, "")
	anon.Send("stream:stop", map[string]string{"station": slug}, "s1")
	if m := waitFor(t, anon, "error", nil); !has(m, `"code":"unauthorized"`) {
		t.Fatalf("anonymous stop: %s", m.Data)
	}
	if st := e2.do("POST", "/api/stations/"+slug+"/stop", "", nil, nil); st != 401 {
		t.Fatalf("anonymous REST stop through an edge: %d", st)
	}

	// Logging out through edge 2 closes the fan's socket on edge 1.
	e2.must(204, "POST", "/api/auth/logout", fanTok, nil, nil)
	select {
	case <-fan.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the fan's socket on edge 1 outlived the session")
	}

	// An upload through an edge, larger than one NATS message: the body
	// goes through the object store and the origin takes it.
	wav := sineWAV(440, 8*time.Second)
	if status, res := e1.upload(tok, slug, namedFile{"big.wav", wav}); status != 201 || len(res.Tracks) != 1 {
		t.Fatalf("upload of %d bytes through an edge: %d %+v", len(wav), status, res)
	}
	if status, _ := e1.upload("", slug, namedFile{"big.wav", wav}); status != 401 {
		t.Fatalf("anonymous upload through an edge: %d", status)
	}

	// Losing edge 2 leaves edge 1's listener playing, and edge 2's
	// listener stops counting within 15 s.
	e2.stop()
	from := len(l1.Audio)
	l1.ReadUntil("3 s more on edge 1", func() bool { return len(l1.Audio) >= from+48000 })
	testutil.Eventually(t, 15*time.Second, "edge 2's listener to stop counting", func() bool {
		var st stationJSON
		origin.do("GET", "/api/stations/"+slug, "", nil, &st)
		return st.Listeners.HTTP == 1 && st.Listeners.WebRTC == 0
	})
	// Edge 2's WebRTC listening session is in the origin's statistics.
	since, until := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	testutil.Eventually(t, 40*time.Second, "an edge's session in the origin's statistics", func() bool {
		var rep struct{ Sessions int64 }
		origin.do("GET", "/api/stations/"+slug+"/stats?from="+since+"&to="+until, tok, nil, &rep)
		return rep.Sessions >= 1
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestEdgeWithWrongNATSURLFailsAtStart(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Cluster.Role, cfg.Cluster.Node = "edge", "lost"
	cfg.Cluster.NATSURL = "nats://" + freePort(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = serve(context.Background(), &cfg, ln, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "cannot reach the NATS server") || !strings.Contains(err.Error(), cfg.Cluster.NATSURL) {
		t.Fatalf("start with a wrong URL: %v", err)
	}
}

// healthz is the status of GET /healthz.
func healthz(url string) int {
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// edgeOnBus starts an origin and an edge on the NATS server at url, puts
// a station named name playing tone440.mp3 on the air and waits until the
// edge serves it.
func edgeOnBus(t *testing.T, url, name string) (origin, edge *server, slug string) {
	t.Helper()
	origin = startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.NATSURL = url })
	edge = startNode(t, "edge", "edge-1", func(c *configs.Config) { c.Cluster.NATSURL = url })
	tok := origin.owner("deejay")
	slug, _ = origin.liveStation(tok, name, "tone440.mp3")
	testutil.Eventually(t, 10*time.Second, "the station on the edge", func() bool { return streamStatus(edge.URL+"/stream/"+slug) == 200 })
	return origin, edge, slug
}

// waitClosed reads r to its end and fails t with complaint if the end has
// not come within 20 s: a node must close a listener it can no longer
// serve, not leave it waiting.
func waitClosed(t *testing.T, r io.Reader, complaint string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, r)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal(complaint)
	}
}

// TestEdgeNATSOutage: an edge cut off from NATS reports unhealthy, closes
// its listeners after what they have, and comes back by itself.
func TestEdgeNATSOutage(t *testing.T) {
	addr, store := freePort(t), t.TempDir()
	bus, err := cluster.StartEmbedded(addr, store, "bus")
	if err != nil {
		t.Fatal(err)
	}
	_, edge, slug := edgeOnBus(t, "nats://"+addr, "Outage FM")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l := listenICY(t, ctx, edge.URL+"/stream/"+slug)
	l.ReadUntil("1 s of audio", func() bool { return len(l.Audio) >= 16000 })
	if st := healthz(edge.URL); st != 200 {
		t.Fatalf("healthz %d before the outage", st)
	}

	bus.Close()
	testutil.Eventually(t, 10*time.Second, "healthz to report the outage", func() bool { return healthz(edge.URL) == 503 })
	waitClosed(t, l.Reader, "the edge's listener was not closed after the outage")

	bus, err = cluster.StartEmbedded(addr, store, "bus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	testutil.Eventually(t, 15*time.Second, "healthz to recover", func() bool { return healthz(edge.URL) == 200 })
	testutil.Eventually(t, 15*time.Second, "the station back on the edge", func() bool { return streamStatus(edge.URL+"/stream/"+slug) == 200 })
	l2 := listenICY(t, ctx, edge.URL+"/stream/"+slug)
	l2.ReadUntil("1 s of audio after the outage", func() bool { return len(l2.Audio) >= 16000 })
}

// sineWAV is a 16-bit stereo 44.1 kHz WAV file of a sine.
func sineWAV(freq float64, d time.Duration) []byte {
	frames := int(d.Seconds() * 44100)
	data := make([]byte, 44+frames*4)
	le := binary.LittleEndian
	copy(data, "RIFF")
	le.PutUint32(data[4:], uint32(36+frames*4))
	copy(data[8:], "WAVEfmt ")
	le.PutUint32(data[16:], 16)
	le.PutUint16(data[20:], 1)
	le.PutUint16(data[22:], 2)
	le.PutUint32(data[24:], 44100)
	le.PutUint32(data[28:], 44100*4)
	le.PutUint16(data[32:], 4)
	le.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	le.PutUint32(data[40:], uint32(frames*4))
	for i := range frames {
		v := int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/44100))
		le.PutUint16(data[44+i*4:], uint16(v))
		le.PutUint16(data[46+i*4:], uint16(v))
	}
	return data
}

func TestNodeNeedsJetStream(t *testing.T) {
	url := runNATSServer(t) // no -js
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	cfg.Cluster.Role, cfg.Cluster.Node, cfg.Cluster.NATSURL = "edge", "e", url
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = serve(context.Background(), &cfg, ln, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "no JetStream") {
		t.Fatalf("start against a NATS server without JetStream: %v", err)
	}
}

// TestSIGKILLedEdge kills an edge process with SIGKILL: the other edge's
// listener plays on, and the dead edge's listener stops counting within
// 15 s.
func TestSIGKILLedEdge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an edge as a child process")
	}
	addr := freePort(t)
	origin := startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.EmbeddedNATS = addr })
	e1 := startNode(t, "edge", "edge-1", func(c *configs.Config) { c.Cluster.NATSURL = "nats://" + addr })
	e2, cmd := startChildEdge(t, "nats://"+addr, "edge-2")

	tok := origin.owner("deejay")
	slug, _ := origin.liveStation(tok, "Kill FM", "tone440.mp3")
	for _, e := range []string{e1.URL, e2} {
		testutil.Eventually(t, 10*time.Second, "the station on "+e, func() bool { return streamStatus(e+"/stream/"+slug) == 200 })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l1 := listenICY(t, ctx, e1.URL+"/stream/"+slug)
	l2 := listenICY(t, ctx, e2+"/stream/"+slug)
	l1.ReadUntil("1 s on edge 1", func() bool { return len(l1.Audio) >= 16000 })
	l2.ReadUntil("1 s on edge 2", func() bool { return len(l2.Audio) >= 16000 })
	testutil.Eventually(t, 15*time.Second, "both listeners counted", func() bool {
		var st stationJSON
		origin.do("GET", "/api/stations/"+slug, "", nil, &st)
		return st.Listeners.HTTP == 2
	})

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	from := len(l1.Audio)
	l1.ReadUntil("3 s more on edge 1", func() bool { return len(l1.Audio) >= from+48000 })
	testutil.Eventually(t, 15*time.Second, "the killed edge's listener to stop counting", func() bool {
		var st stationJSON
		origin.do("GET", "/api/stations/"+slug, "", nil, &st)
		return st.Listeners.HTTP == 1
	})
}

// TestOriginLoss: with NATS still up, an origin that goes away takes its
// stations off the edges within seconds, so listeners are closed rather
// than left waiting; the edge stays healthy.
func TestOriginLoss(t *testing.T) {
	addr := freePort(t)
	bus, err := cluster.StartEmbedded(addr, t.TempDir(), "bus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	url := "nats://" + addr
	origin, edge, slug := edgeOnBus(t, url, "Lost FM")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l := listenICY(t, ctx, edge.URL+"/stream/"+slug)
	l.ReadUntil("1 s of audio", func() bool { return len(l.Audio) >= 16000 })

	origin.stop()
	waitClosed(t, l.Reader, "the edge's listener was left waiting after the origin went away")
	if st := streamStatus(edge.URL + "/stream/" + slug); st != 404 {
		t.Fatalf("the lost origin's station answers %d on the edge, want 404", st)
	}
	if st := healthz(edge.URL); st != 200 {
		t.Fatalf("healthz %d: the edge is still in the cluster", st)
	}

	// The origin comes back on its data: the station is live again, and
	// the edge serves it again.
	startNode(t, "origin", "origin", func(c *configs.Config) { c.Cluster.NATSURL, c.DataDir = url, origin.dataDir })
	testutil.Eventually(t, 20*time.Second, "the station back on the edge", func() bool { return streamStatus(edge.URL+"/stream/"+slug) == 200 })
	l2 := listenICY(t, ctx, edge.URL+"/stream/"+slug)
	l2.ReadUntil("1 s of audio from the restarted origin", func() bool { return len(l2.Audio) >= 16000 })
}
