package signalling

import "time"

// Limits bound what one client may cost the server. A zero field takes its
// default, so the zero Limits is a sane production setting.
type Limits struct {
	// MaxMessageBytes is the largest client message; a larger one closes
	// the connection (1009). SDP offers are a few KB. Default 64 KiB.
	MaxMessageBytes int64
	// SendQueue is how many messages may wait for one client's writer.
	// A client that lets it fill is disconnected, never waited for.
	// Default 64.
	SendQueue int
	// MessagesPerSecond and MessageBurst limit a connection's requests.
	// Excess requests get a rate_limited error. Defaults 20 and 40.
	MessagesPerSecond float64
	MessageBurst      int
	// FloodTolerance is how many rate-limited requests a connection may
	// send, refilled at one per second, before it is closed with 1008
	// (policy violation). Default 20.
	FloodTolerance int
	// PingInterval is how often the server pings; PongWait how long it
	// waits for any frame before dropping the connection. Defaults 30 s
	// and 60 s.
	PingInterval time.Duration
	PongWait     time.Duration
	// WriteTimeout bounds every write to a socket. Default 10 s.
	WriteTimeout time.Duration
	// RequestTimeout bounds the work done for one request (store, relay).
	// Default 15 s.
	RequestTimeout time.Duration
	// MaxPeers is how many PeerConnections one socket may hold. Default 4.
	MaxPeers int
	// MaxRooms is how many station rooms one socket may be in. Default 16.
	MaxRooms int
	// ChatHistory is how many recent chat messages a room keeps for
	// joining clients. Default 50.
	ChatHistory int
	// ChatPerSecond and ChatBurst limit each user's chat messages, over
	// all their connections. Defaults 1 and 5.
	ChatPerSecond float64
	ChatBurst     int
	// LikesPerSecond and LikeBurst limit each user's likes. Defaults 1
	// and 5.
	LikesPerSecond float64
	LikeBurst      int
	// ListenersInterval is the shortest gap between two stream:listeners
	// messages to one room; the last count is sent when it ends.
	// Default 250 ms (at most four a second).
	ListenersInterval time.Duration
	// MaxPendingEvents bounds the events published but not yet fanned out;
	// listener counts of one station replace each other while they wait.
	// Default 4096.
	MaxPendingEvents int
}

// withDefaults returns l with every unset field at its default.
func (l Limits) withDefaults() Limits {
	setInt(&l.SendQueue, 64)
	setInt(&l.MessageBurst, 40)
	setInt(&l.FloodTolerance, 20)
	setInt(&l.MaxPeers, 4)
	setInt(&l.MaxRooms, 16)
	setInt(&l.ChatHistory, 50)
	setInt(&l.ChatBurst, 5)
	setInt(&l.LikeBurst, 5)
	setInt(&l.MaxPendingEvents, 4096)
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = 64 << 10
	}
	setFloat(&l.MessagesPerSecond, 20)
	setFloat(&l.ChatPerSecond, 1)
	setFloat(&l.LikesPerSecond, 1)
	setDuration(&l.PingInterval, 30*time.Second)
	if l.PongWait <= l.PingInterval {
		l.PongWait = 2 * l.PingInterval // a pong must have time to come back
	}
	setDuration(&l.WriteTimeout, 10*time.Second)
	setDuration(&l.RequestTimeout, 15*time.Second)
	setDuration(&l.ListenersInterval, 250*time.Millisecond)
	return l
}

func setInt(p *int, def int) {
	if *p <= 0 {
		*p = def
	}
}

func setFloat(p *float64, def float64) {
	if *p <= 0 {
		*p = def
	}
}

func setDuration(p *time.Duration, def time.Duration) {
	if *p <= 0 {
		*p = def
	}
}
