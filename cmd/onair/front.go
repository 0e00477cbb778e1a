package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/guard"
)

// front is a node's HTTP server, the same on a single node, an origin and
// an edge: TLS (tls.*), the connection cap (http.max_conns), the header
// timeout (http.read_timeout) and the plain-HTTP redirect side.
type front struct {
	srv, plain *http.Server
	errc       chan error
	log        *slog.Logger
	scheme     string // http or https
}

// newGuard is the per-request side of cfg's limits (package guard), the
// same on every node.
func newGuard(cfg *configs.Config) (*guard.Guard, error) {
	proxies, err := trustedProxies(cfg)
	if err != nil {
		return nil, err
	}
	return &guard.Guard{TrustedProxies: proxies, ReadTimeout: cfg.HTTP.ReadTimeout,
		SocketsPerIP: cfg.Limits.SocketsPerIP, StreamsPerIP: cfg.Limits.StreamsPerIP}, nil
}

// startFront serves h on ln until shutdown; secure is newTLS's answer (nil
// serves plain HTTP). The first error of either server arrives on errc.
func startFront(cfg *configs.Config, ln net.Listener, h http.Handler, secure *tlsSetup, log *slog.Logger) *front {
	// No WriteTimeout and no ReadTimeout: streams are endless and set a
	// deadline per write, and bodies get http.read_timeout per read (see
	// package guard). Headers get it whole, against slowloris.
	f := &front{
		srv: &http.Server{Handler: h, ReadHeaderTimeout: cfg.HTTP.ReadTimeout, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)},
		errc: make(chan error, 2),
		log:  log,
	}
	if cfg.HTTP.MaxConns > 0 {
		ln = netutil.LimitListener(ln, cfg.HTTP.MaxConns)
	}
	scheme := "http"
	if secure != nil {
		ln = tls.NewListener(ln, secure.config)
		scheme = "https"
	}
	go func() { f.errc <- f.srv.Serve(ln) }()
	if secure != nil && cfg.TLS.RedirectAddr != "" {
		pln, err := net.Listen("tcp", cfg.TLS.RedirectAddr)
		if err != nil {
			f.errc <- fmt.Errorf("listen on %s (tls.redirect_addr): %w", cfg.TLS.RedirectAddr, err)
		} else {
			f.plain = plainServer(secure.plain, cfg.HTTP.ReadTimeout)
			go func() { f.errc <- f.plain.Serve(pln) }()
			log.Info("redirecting to https", "addr", pln.Addr().String())
		}
	}
	f.scheme = scheme
	return f
}

// wait returns when ctx ends (nil) or a server fails (its error).
func (f *front) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-f.errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// shutdown stops both servers, giving open requests 5 s.
func (f *front) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range []*http.Server{f.srv, f.plain} {
		if s == nil {
			continue
		}
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			f.log.Warn("http shutdown", "err", err)
		}
	}
}
