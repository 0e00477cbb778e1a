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
	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/control"
	"github.com/onairfm/onair/ingest"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/signalling"
	"github.com/onairfm/onair/stats"
	"github.com/onairfm/onair/web"
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
	ctrl := &control.Service{Store: db, Ingest: &ingest.Ingester{MediaDir: mediaDir(cfg), MaxBytes: cfg.Upload.MaxBytes}, Logger: log}
	rtc := &relay.WebRTC{
		LoopbackOnly: cfg.WebRTC.LoopbackOnly,
		UDPPort:      cfg.WebRTC.UDPPort,
		PublicIPs:    cfg.WebRTC.PublicIPs,
		ICEServers:   cfg.WebRTC.ICEServers,
		Logger:       log.With("component", "webrtc"),
	}
	defer func() { err = errors.Join(err, rtc.Close()) }()
	rel := &relay.Relay{
		MediaDir:  mediaDir(cfg),
		Publisher: publishers{hub, ctrl},
		Logger:    log.With("component", "relay"),
		Opus:      relay.OpusConfig{Bitrate: cfg.Opus.Bitrate, FrameMS: cfg.Opus.FrameMS},
		WebRTC:    rtc,
		Burst:     cfg.Stream.Burst(),
		PublicURL: cfg.HTTP.PublicURL,
	}
	ctrl.Relay = rel
	rec := &stats.Recorder{
		Store: db,
		Live: func(slug string) (onair.Listeners, bool) {
			st := rel.Status(slug)
			return st.Listeners, st.Live
		},
		SampleEvery: cfg.Stats.SampleEvery(),
		Retention:   cfg.Stats.Retention(),
		Logger:      log.With("component", "stats"),
	}
	if err := rec.Start(ctx); err != nil {
		return err
	}
	// Closed after the relay, whose last listeners end their sessions.
	defer func() { err = errors.Join(err, rec.Close()) }()
	rel.OnSession, hub.OnEngagement = rec.Session, rec.Engagement
	hub.Control, hub.Stations, hub.Peers, hub.Likes = ctrl, stationStates{ctrl}, peers{rel}, db
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
		Logger:         log.With("component", "http"),
		PublicURL:      cfg.HTTP.PublicURL,
		AllowedOrigins: cfg.HTTP.AllowedOrigins,
		ICEServers:     cfg.WebRTC.ICEServers,
		Stats:          rec,
	}
	// No WriteTimeout: streams are endless and set a deadline per write.
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
	err = errors.Join(err, hub.Close(), rel.Close())
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

// peers adapts the relay's WebRTC peers to signalling.
type peers struct{ r *relay.Relay }

func (p peers) NewPeer(ctx context.Context, station string, onCandidate func(onair.ICECandidate), onClose func()) (signalling.Peer, error) {
	peer, err := p.r.NewPeer(ctx, station, onCandidate, onClose)
	if err != nil {
		return nil, err
	}
	return peer, nil
}
