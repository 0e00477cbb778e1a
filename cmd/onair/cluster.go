package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onairfm/onair/cluster"
	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/httpjson"
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
	}
}

// serveEdge runs an edge: no database; listeners, sockets and pages, with
// everything else handed to the origin.
func serveEdge(ctx context.Context, cfg *configs.Config, ln net.Listener, log *slog.Logger) (err error) {
	defer func() { _ = ln.Close() }()
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
	reg := prometheus.NewRegistry()
	reg.MustRegister(rel, node, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onair_websocket_connections", Help: "Open WebSocket connections."},
			func() float64 { return float64(hub.Connections()) }))
	srv := &http.Server{Handler: edgeHandler(rel, hub, node, metricsGuard(cfg.Metrics.Token, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))),
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("onair edge serving", "addr", ln.Addr().String(), "node", node.Name, "version", version)
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
		log.Warn("http shutdown", "err", serr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	// The relay before the node: its listeners' sessions end while the
	// origin can still hear of it.
	err = errors.Join(err, hub.Close(), rel.Close())
	node.Close()
	return err
}

// edgeHandler serves what an edge serves itself and forwards the rest.
func edgeHandler(rel *relay.Relay, hub http.Handler, node *cluster.Node, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	forward := node.Forward()
	mux.Handle("/", forward)
	mux.HandleFunc("/stream/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if strings.HasSuffix(name, ".m3u") || strings.HasSuffix(name, ".pls") {
			forward.ServeHTTP(w, r) // the origin writes this node's address, from Host
			return
		}
		rel.ServeStream(w, r)
	})
	mux.HandleFunc("GET /status-json.xsl", rel.ServeStatus)
	mux.Handle("/ws", hub)
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !node.Healthy() {
			httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "not connected to the cluster"})
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

// metricsGuard asks for metrics.token as a bearer token when one is set,
// as the origin's /metrics does.
func metricsGuard(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			httpjson.Error(w, http.StatusUnauthorized, "metrics need Authorization: Bearer <metrics.token>")
			return
		}
		h.ServeHTTP(w, r)
	})
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
