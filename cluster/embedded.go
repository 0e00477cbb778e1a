package cluster

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded is a NATS server with JetStream running in this process, for a
// small cluster that needs no NATS of its own. It listens only on the
// address it is given: no routes to other servers, no gateways, no leaf
// nodes and no HTTP monitoring port.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts a NATS server on addr (host:port; port 0 picks a
// free one) with JetStream storing under storeDir, and waits until it takes
// connections.
func StartEmbedded(addr, storeDir, name string) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: address %q: %w", ErrEmbedded, addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("%w: port %q: %w", ErrEmbedded, portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if host == "" {
		host = "127.0.0.1"
	}
	opts := &server.Options{
		ServerName: name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoSigs:     true, // the process's signals are cmd's
		NoLog:      true,
		// HTTPPort, Cluster, Gateway and LeafNode stay zero: off.
		MaxPayload: maxPayload,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEmbedded, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("%w: not ready on %s within 10 s", ErrEmbedded, addr)
	}
	return &Embedded{srv: srv}, nil
}

// URL is the address clients connect to.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Close stops the server and waits for it.
func (e *Embedded) Close() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// maxPayload is the largest message the embedded server takes: 1 MiB,
// NATS's default, which an external server most likely has too. Bigger
// bodies go through the object store.
const maxPayload = 1 << 20
