package onair

import (
	"context"
	"sync/atomic"
	"time"
)

// Transports a listener can hear a station on.
const (
	TransportHTTP   = "http"
	TransportWebRTC = "webrtc"
)

// ListenSession is one listener's time on one station, as the relay reports
// it to statistics: once when it starts (End is zero) and once when it ends,
// both times with the same ID. It carries the raw User-Agent so that the
// recorder can keep its family; the listener's address is never part of it.
type ListenSession struct {
	ID        uint64 // unique within the process, shared by start and end
	Station   string // slug
	Transport string // TransportHTTP or TransportWebRTC
	UserAgent string
	Start     time.Time
	End       time.Time // zero while the session is open
}

var listenSessionSeq atomic.Uint64

// NextListenSessionID numbers listening sessions within the process, for
// every transport alike, so that their IDs never collide.
func NextListenSessionID() uint64 { return listenSessionSeq.Add(1) }

type userAgentKey struct{}

// WithUserAgent returns a context that carries the User-Agent of the
// request a long-lived connection came from, so that a listener created
// later on that connection (a WebRTC peer made over the WebSocket) can be
// told apart by client family without passing the request along.
func WithUserAgent(ctx context.Context, ua string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, ua)
}

// UserAgent returns the User-Agent WithUserAgent stored in ctx, or "".
func UserAgent(ctx context.Context) string {
	ua, _ := ctx.Value(userAgentKey{}).(string)
	return ua
}
