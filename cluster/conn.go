package cluster

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// connectTimeout bounds the first connection: a wrong URL fails the start
// with a clear message rather than hanging.
const connectTimeout = 5 * time.Second

// connect joins the NATS server at url as node. Later outages are
// reconnected forever; up and down report them.
func connect(url, node string, up, down func()) (*nats.Conn, error) {
	nc, err := nats.Connect(url,
		nats.Name("onair "+node),
		nats.Timeout(connectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectBufSize(-1), // nothing stale is sent after an outage
		nats.DisconnectErrHandler(func(*nats.Conn, error) { down() }),
		nats.ReconnectHandler(func(*nats.Conn) { up() }),
	)
	if err != nil {
		return nil, fmt.Errorf("%w at %s (cluster.nats_url): %w", ErrConnect, url, err)
	}
	return nc, nil
}
