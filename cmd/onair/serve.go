package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
	"github.com/onairfm/onair/cluster"
	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/control"
	"github.com/onairfm/onair/ingest"
	"github.com/onairfm/onair/live"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/rtc"
	"github.com/onairfm/onair/signalling"
	"github.com/onairfm/onair/stats"
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
	removed, err := removeUploadLeftovers(mediaDir(cfg))
	if err != nil {
		return err
	}
	if removed > 0 {
		log.Info("removed files of interrupted uploads", "count", removed)
	}
	proxies, err := trustedProxies(cfg)
	if err != nil {
		return err
	}
	secure, err := newTLS(cfg, log)
	if err != nil {
		return err
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
	if err := logSetupURL(ctx, cfg, accounts, ln, secure != nil, log); err != nil {
		return err
	}

	hub := &signalling.Hub{Auth: accounts, Logger: log.With("component", "signalling"), AllowedOrigins: cfg.HTTP.AllowedOrigins}
	media := mediaDir(cfg)
	ctrl := &control.Service{
		Store:         db,
		Auth:          accounts,
		Ingest:        &ingest.Ingester{MediaDir: media, MaxBytes: cfg.Upload.MaxBytes},
		Logger:        log,
		QuotaBytes:    cfg.Upload.QuotaBytes,
		AudioDefaults: cfg.Audio.Settings(),
		// Tracks uploaded before analysis existed are measured in the
		// background by ctrl.Run.
		Analyze: func(ctx context.Context, t onair.Track) (onair.Analysis, error) {
			return ingest.Analyze(ctx, filepath.Join(media, t.Path), t.Format)
		},
	}
	rtcServer := newRTCServer(cfg, log)
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
	rel.OnSession, rtcServer.OnSession, hub.OnEngagement = rec.Session, rec.Session, rec.Engagement
	ctrl.Audience = rec
	sources := &live.Sources{Auth: ctrl, Relay: rel, ReadTimeout: cfg.HTTP.ReadTimeout, Logger: log.With("component", "live")}
	whipServer := &whip.Server{NewPeerConnection: rtcServer.NewPeerConnection, Relay: rel, Logger: log.With("component", "whip")}
	hub.Control, hub.Stations, hub.Peers, hub.Likes = ctrl, ctrl, peers{rtcServer}, db
	stopCluster := func() {}
	originHTTP := &lateHandler{}
	if node != nil {
		node.Relay, node.Hub = rel, hub
		rel.Tap, rel.Nodes, hub.Mirror = node.Tap(), node.Nodes(), node
		stopCluster, err = startOrigin(cfg, node, cluster.Services{Auth: accounts, Control: ctrl, States: ctrl, Likes: db, HTTP: originHTTP, Audience: rec})
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
	wg.Go(func() { ctrl.Run(runCtx) })
	wg.Go(func() {
		accounts.PurgeExpired(runCtx, sessionPurgeEvery, func(n int64, err error) {
			switch {
			case err != nil:
				log.Warn("purging expired sessions", "err", err)
			case n > 0:
				log.Info("purged expired sessions", "count", n)
			}
		})
	})
	if err := ctrl.Resume(ctx); err != nil {
		log.Warn("resuming live stations", "err", err)
	}

	reg := metricsRegistry(rel, hub, node, rtcServer)
	site := &web.Server{
		Control:        ctrl,
		Auth:           accounts,
		Stream:         http.HandlerFunc(rel.ServeStream),
		Status:         http.HandlerFunc(rel.ServeStatus),
		WS:             hub,
		Metrics:        promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		WHIP:           whipServer,
		Source:         sources,
		Logger:         log.With("component", "http"),
		PublicURL:      cfg.HTTP.PublicURL,
		AllowedOrigins: cfg.HTTP.AllowedOrigins,
		ICEServers:     cfg.WebRTC.ICEServers,
		TrustedProxies: proxies,
		ReadTimeout:    cfg.HTTP.ReadTimeout,
		SocketsPerIP:   cfg.Limits.SocketsPerIP,
		StreamsPerIP:   cfg.Limits.StreamsPerIP,
		MetricsToken:   cfg.Metrics.Token,
		Sessions:       sessionEnders(hub, node),
		Stats:          rec,
	}
	handler := site.Handler()
	originHTTP.set(handler)
	f := startFront(cfg, ln, handler, secure, log)
	log.Info("onair serving", "addr", ln.Addr().String(), "scheme", f.scheme, "data_dir", cfg.DataDir, "version", version)
	err = f.wait(ctx)
	log.Info("shutting down")
	f.shutdown()
	// Sources end before the relay, and the relay before control's Run, so
	// the last station events reach control, which saves what is queued
	// before it returns.
	err = errors.Join(err, hub.Close(), whipServer.Close(), sources.Close())
	stopCluster()
	err = errors.Join(err, rel.Close())
	stopRun()
	wg.Wait()
	return err
}

// sessionPurgeEvery is how often expired sessions are deleted.
const sessionPurgeEvery = time.Hour

// removeUploadLeftovers deletes the temporary files of uploads that a
// crash (kill -9, power loss) interrupted; a clean run removes its own.
// Nothing else writes files of that name into the media directory.
func removeUploadLeftovers(dir string) (int, error) {
	matches, err := filepath.Glob(filepath.Join(dir, ".upload-*.tmp"))
	if err != nil {
		return 0, fmt.Errorf("find interrupted uploads: %w", err)
	}
	n := 0
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove interrupted upload: %w", err)
		}
		n++
	}
	return n, nil
}

func trustedProxies(cfg *configs.Config) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range cfg.HTTP.TrustedProxies {
		prefix, err := configs.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("http.trusted_proxies: %w", err)
		}
		out = append(out, prefix)
	}
	return out, nil
}

// logSetupURL logs, on a start with no admin, the one-time link that
// creates the first one. The host is http.public_url's, else the listen
// address (localhost when it listens on every interface).
func logSetupURL(ctx context.Context, cfg *configs.Config, accounts *auth.Service, ln net.Listener, https bool, log *slog.Logger) error {
	token, ok, err := accounts.SetupToken(ctx)
	if err != nil {
		return fmt.Errorf("first-run setup: %w", err)
	}
	if !ok {
		return nil
	}
	base := cfg.HTTP.PublicURL
	if base == "" {
		scheme := "http"
		if https {
			scheme = "https"
		}
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if ip, err := netip.ParseAddr(host); err != nil || ip.IsUnspecified() {
			host = "localhost"
		}
		base = scheme + "://" + net.JoinHostPort(host, port)
	}
	log.Warn("no admin account yet: open the setup link to create one (or set admin.password)",
		"url", base+"/setup?token="+token)
	return nil
}

// publishers hands each relay event to every subscriber.
type publishers []interface{ Publish(onair.Event) }

func (ps publishers) Publish(ev onair.Event) {
	for _, p := range ps {
		p.Publish(ev)
	}
}

// newRTCServer is the WebRTC side as configured, on an origin or an edge.
func newRTCServer(cfg *configs.Config, log *slog.Logger) *rtc.Server {
	return &rtc.Server{
		LoopbackOnly:   cfg.WebRTC.LoopbackOnly,
		UDPPort:        cfg.WebRTC.UDPPort,
		ICETCP:         cfg.WebRTC.TCPPort >= 0,
		TCPPort:        max(0, cfg.WebRTC.TCPPort),
		PublicIPs:      cfg.WebRTC.PublicIPs,
		ICEServers:     cfg.WebRTC.ICEServers,
		PionPeers:      cfg.WebRTC.Transport == "pion",
		PacketDuration: time.Duration(cfg.WebRTC.PacketMS) * time.Millisecond,
		Logger:         log.With("component", "webrtc"),
	}
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
