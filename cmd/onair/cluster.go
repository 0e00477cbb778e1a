package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/cluster"
	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/guard"
	"github.com/onairfm/onair/internal/httpjson"
	"github.com/onairfm/onair/live"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/signalling"
)

// natsURL starts the embedded NATS server when cluster.embedded_nats asks
// for one, and returns the URL to join; stop ends it.
func natsURL(cfg *configs.Config) (url string, stop func(), err error) {
	if cfg.Cluster.EmbeddedNATS == "" {
		return cfg.Cluster.NATSURL, func() {}, nil
	}
	emb, err := cluster.StartEmbedded(cfg.Cluster.EmbeddedNATS, filepath.Join(cfg.DataDir, "nats"), cfg.Cluster.NodeName())
	if err != nil {
		return "", nil, err
	}
	return emb.URL(), emb.Close, nil
}

// originNode is the cluster side of an origin; nil without cluster keys,
// and then no NATS code runs.
func originNode(cfg *configs.Config, log *slog.Logger) *cluster.Node {
	if !cfg.Cluster.Enabled() {
		return nil
	}
	return &cluster.Node{
		Name:      cfg.Cluster.NodeName(),
		Role:      cluster.RoleOrigin,
		Logger:    log,
		MaxUpload: cfg.Upload.MaxBytes,
		PublicURL: cfg.HTTP.PublicURL,
	}
}

// serveEdge runs an edge: no database; listeners, sockets and pages, with
// everything else handed to the origin.
func serveEdge(ctx context.Context, cfg *configs.Config, ln net.Listener, log *slog.Logger) (err error) {
	defer func() { _ = ln.Close() }()
	gd, err := newGuard(cfg)
	if err != nil {
		return err
	}
	secure, err := newTLS(cfg, log)
	if err != nil {
		return err
	}
	url, stopNATS, err := natsURL(cfg)
	if err != nil {
		return err
	}
	defer stopNATS()
	rtcServer := newRTCServer(cfg, log)
	defer func() { err = errors.Join(err, rtcServer.Close()) }()
	hub := &signalling.Hub{Logger: log.With("component", "signalling"), AllowedOrigins: cfg.HTTP.AllowedOrigins}
	rel := &relay.Relay{
		Publisher: hub,
		Logger:    log.With("component", "relay"),
		Opus:      relay.OpusConfig{Bitrate: cfg.Opus.Bitrate, FrameMS: cfg.Opus.FrameMS},
		WebRTC:    tracks{rtcServer},
		Burst:     cfg.Stream.Burst(),
		PublicURL: cfg.HTTP.PublicURL,
	}
	node := &cluster.Node{
		Name:      cfg.Cluster.NodeName(),
		Role:      cluster.RoleEdge,
		URL:       url,
		Relay:     rel,
		Hub:       hub,
		Logger:    log,
		MaxUpload: cfg.Upload.MaxBytes,
	}
	rel.Nodes = node.Nodes()
	// Statistics live with the database, on the origin.
	rel.OnSession, rtcServer.OnSession, hub.OnEngagement = node.Session, node.Session, node.Engagement
	socks := node.Sockets()
	hub.Auth, hub.Control, hub.Stations, hub.Peers, hub.Likes, hub.Mirror = socks, socks, socks, peers{rtcServer}, socks, node
	if err := hub.Start(); err != nil {
		return fmt.Errorf("start signalling: %w", err)
	}
	if err := node.Start(); err != nil {
		_ = hub.Close()
		return err
	}
	reg := metricsRegistry(rel, hub, node, rtcServer)
	f := startFront(cfg, ln, edgeHandler(gd, rel, hub, node, cfg.Metrics.Token, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), secure, log)
	log.Info("onair edge serving", "addr", ln.Addr().String(), "scheme", f.scheme, "node", node.Name, "version", version)
	err = f.wait(ctx)
	log.Info("shutting down")
	f.shutdown()
	// The relay before the node: its listeners' sessions end while the
	// origin can still hear of it.
	err = errors.Join(err, hub.Close(), rel.Close())
	node.Close()
	return err
}

// edgeHandler serves what an edge serves itself and forwards the rest,
// behind the same guard as the origin's routes (package guard): the real
// client behind trusted proxies, body deadlines, HSTS, the per-address
// caps on streams and sockets, and the metrics token.
func edgeHandler(gd *guard.Guard, rel *relay.Relay, hub *signalling.Hub, node *cluster.Node, metricsToken string, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	forward := node.Forward()
	mux.Handle("/", forward)
	stream := gd.Limit(guard.Streams, http.HandlerFunc(rel.ServeStream))
	mux.HandleFunc("/stream/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		switch {
		case r.Method == http.MethodPut || r.Method == "SOURCE":
			refuseSource(w, node.OriginURL(), name)
		case strings.HasSuffix(name, ".m3u") || strings.HasSuffix(name, ".pls"):
			forward.ServeHTTP(w, r) // the origin writes this node's address, from Host
		default:
			stream.ServeHTTP(w, r)
		}
	})
	mux.HandleFunc("GET /status-json.xsl", rel.ServeStatus)
	// The hub serves a socket past its request: the address holds its
	// slot until the hub says the socket closed.
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		release, err := gd.Hold(w, r, guard.Sockets)
		if err != nil {
			httpjson.Error(w, http.StatusTooManyRequests, onair.ErrorMessage(err))
			return
		}
		hub.ServeSocket(w, r, release)
	})
	mux.Handle("GET /metrics", guard.Token(metricsToken, metrics))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !node.Healthy() {
			httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "not connected to the cluster"})
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return gd.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "SOURCE" { // legacy Icecast sources, on any mount
			refuseSource(w, node.OriginURL(), strings.TrimPrefix(r.URL.Path, "/"))
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// refuseSource sends a live source client that reached an edge to the
// origin, which alone takes sources: its audio feeds the station's clock
// and mix, which run there (docs/CLUSTER.md). The status line says where,
// since that is what source clients show.
func refuseSource(w http.ResponseWriter, origin, mount string) {
	where := "the origin server of this cluster (set http.public_url on the origin to have it named here)"
	if origin != "" {
		where = origin + "/stream/" + strings.TrimPrefix(mount, "stream/")
	}
	live.Refuse(w, http.StatusForbidden, "This is an edge of an onair cluster; connect your source to "+where)
}

// startOrigin joins the cluster as the origin once its HTTP handler is
// made; stop leaves it.
func startOrigin(cfg *configs.Config, node *cluster.Node, svc cluster.Services) (stop func(), err error) {
	url, stopNATS, err := natsURL(cfg)
	if err != nil {
		return nil, err
	}
	node.URL, node.Origin = url, svc
	if err := node.Start(); err != nil {
		stopNATS()
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { node.Close(); stopNATS() }) }, nil
}

// lateHandler serves with a handler set after it is handed out: the origin
// joins the cluster before its HTTP handler is made, and edges' requests
// wait for it.
type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) set(h http.Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h = h
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	if h == nil {
		http.Error(w, `{"error":"starting"}`, http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// sessionEnder closes the sockets of sessions that end (web's
// sessionEnder): the origin's hub, and with a cluster every node's.
type sessionEnder interface {
	EndSession(token string)
	EndUser(id int64, keepToken string)
}

type enders []sessionEnder

func (e enders) EndSession(token string) {
	for _, s := range e {
		s.EndSession(token)
	}
}

func (e enders) EndUser(id int64, keepToken string) {
	for _, s := range e {
		s.EndUser(id, keepToken)
	}
}

func sessionEnders(hub *signalling.Hub, node *cluster.Node) sessionEnder {
	if node == nil {
		return hub
	}
	return enders{hub, node}
}
