package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
	"github.com/onairfm/onair/cluster"
	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/control"
	"github.com/onairfm/onair/ingest"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/rtc"
	"github.com/onairfm/onair/signalling"
	"github.com/onairfm/onair/web"
	"github.com/onairfm/onair/whip"
)

func serveCmd(ctx context.Context, args []string, stdout io.Writer, environ []string) error {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	configs.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := configs.Load(fs, environ, "")
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	return serve(ctx, cfg, ln, log)
}

func newLogger(cfg *configs.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func ensureDirs(cfg *configs.Config) error {
	if err := os.MkdirAll(mediaDir(cfg), 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	return nil
}

func mediaDir(cfg *configs.Config) string { return filepath.Join(cfg.DataDir, "media") }

// serve runs the server on ln until ctx ends, then shuts down in the
// reverse order of start-up.
func serve(ctx context.Context, cfg *configs.Config, ln net.Listener, log *slog.Logger) (err error) {
	defer func() { _ = ln.Close() }() // closed already after a clean shutdown
	if cfg.Cluster.Enabled() && cfg.Cluster.Role == cluster.RoleEdge {
		return serveEdge(ctx, cfg, ln, log)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	accounts := &auth.Service{Store: db}
	if created, err := accounts.EnsureAdmin(ctx, cfg.Admin.Password); err != nil {
		return fmt.Errorf("create admin user: %w", err)
	} else if created {
		log.Info("created admin user", "username", auth.AdminUsername)
	}

	hub := &signalling.Hub{Auth: accounts, Logger: log.With("component", "signalling"), AllowedOrigins: cfg.HTTP.AllowedOrigins}
	ctrl := &control.Service{Store: db, Auth: accounts, Ingest: &ingest.Ingester{MediaDir: mediaDir(cfg), MaxBytes: cfg.Upload.MaxBytes}, Logger: log}
	rtcServer := &rtc.Server{
		LoopbackOnly: cfg.WebRTC.LoopbackOnly,
		UDPPort:      cfg.WebRTC.UDPPort,
		PublicIPs:    cfg.WebRTC.PublicIPs,
		ICEServers:   cfg.WebRTC.ICEServers,
		Logger:       log.With("component", "webrtc"),
	}
	// Closed after the relay, whose stations close their tracks and peers.
	defer func() { err = errors.Join(err, rtcServer.Close()) }()
	node := originNode(cfg, log) // nil: one node, no NATS
	pubs := publishers{hub, ctrl}
	if node != nil {
		pubs = append(pubs, node)
	}
	rel := &relay.Relay{
		MediaDir:  mediaDir(cfg),
		Publisher: pubs,
		Logger:    log.With("component", "relay"),
		Opus:      relay.OpusConfig{Bitrate: cfg.Opus.Bitrate, FrameMS: cfg.Opus.FrameMS},
		WebRTC:    tracks{rtcServer},
		Burst:     cfg.Stream.Burst(),
		PublicURL: cfg.HTTP.PublicURL,
	}
	ctrl.Relay = rel
	whipServer := &whip.Server{NewPeerConnection: rtcServer.NewPeerConnection, Relay: rel, Logger: log.With("component", "whip")}
	hub.Control, hub.Stations, hub.Peers, hub.Likes = ctrl, stationStates{ctrl}, peers{rtcServer}, db
	stopCluster := func() {}
	originHTTP := &lateHandler{}
	if node != nil {
		node.Relay, node.Hub = rel, hub
		rel.Tap, rel.Nodes, hub.Mirror = node.Tap(), node.Nodes(), node
		stopCluster, err = startOrigin(cfg, node, cluster.Services{Auth: accounts, Control: ctrl, States: stationStates{ctrl}, Likes: db, HTTP: originHTTP})
		if err != nil {
			return err
		}
		defer stopCluster()
	}
	if err := hub.Start(); err != nil {
		return fmt.Errorf("start signalling: %w", err)
	}

	var wg sync.WaitGroup
	runCtx, stopRun := context.WithCancel(context.Background())
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctrl.Run(runCtx)
	}()
	if err := ctrl.Resume(ctx); err != nil {
		log.Warn("resuming live stations", "err", err)
	}

	reg := prometheus.NewRegistry()
	if node != nil {
		reg.MustRegister(node)
	}
	reg.MustRegister(rel, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onair_websocket_connections", Help: "Open WebSocket connections."},
			func() float64 { return float64(hub.Connections()) }))
	site := &web.Server{
		Control:        ctrl,
		Auth:           accounts,
		Stream:         http.HandlerFunc(rel.ServeStream),
		Status:         http.HandlerFunc(rel.ServeStatus),
		WS:             hub,
		Metrics:        promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		WHIP:           whipServer,
		Logger:         log.With("component", "http"),
		PublicURL:      cfg.HTTP.PublicURL,
		AllowedOrigins: cfg.HTTP.AllowedOrigins,
		ICEServers:     cfg.WebRTC.ICEServers,
	}
	// No WriteTimeout: streams are endless and set a deadline per write.
	originHTTP.set(site.Handler())
	srv := &http.Server{Handler: site.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("onair serving", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "version", version)

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
	err = errors.Join(err, hub.Close(), whipServer.Close())
	stopCluster()
	err = errors.Join(err, rel.Close())
	stopRun()
	wg.Wait()
	return err
}

// publishers hands each relay event to every subscriber.
type publishers []interface{ Publish(onair.Event) }

func (ps publishers) Publish(ev onair.Event) {
	for _, p := range ps {
		p.Publish(ev)
	}
}

// stationStates adapts control's view of a station to signalling's.
type stationStates struct{ c *control.Service }

func (s stationStates) StationState(ctx context.Context, slug string) (signalling.State, error) {
	st, err := s.c.StationState(ctx, slug)
	return signalling.State{Live: st.Live, NowPlaying: st.NowPlaying, Listeners: st.Listeners}, err
}

// tracks adapts the WebRTC side's station tracks to the relay; the relay's
// station is passed through as the track's rtc.Station.
type tracks struct{ s *rtc.Server }

func (t tracks) NewTrack(slug string, st relay.WebRTCStation) (relay.WebRTCTrack, error) {
	track, err := t.s.NewTrack(slug, st)
	if err != nil {
		return nil, err
	}
	return track, nil
}

// peers adapts the WebRTC side's peers to signalling: a peer is bound to
// the track of the station it names.
type peers struct{ s *rtc.Server }

func (p peers) NewPeer(ctx context.Context, station string, onCandidate func(onair.ICECandidate), onClose func()) (signalling.Peer, error) {
	peer, err := p.s.NewPeer(ctx, station, onCandidate, onClose)
	if err != nil {
		return nil, err
	}
	return peer, nil
}
