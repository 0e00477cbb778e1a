package cluster

import "errors"

var (
	// ErrConnect is returned when the NATS server cannot be reached at
	// start.
	ErrConnect = errors.New("cluster: cannot reach the NATS server")
	// ErrEmbedded is returned when the embedded NATS server cannot start.
	ErrEmbedded = errors.New("cluster: embedded NATS server")
	// ErrBadMessage is returned for a message from another node that
	// breaks the rules (size, station, sequence); it is dropped and
	// counted.
	ErrBadMessage = errors.New("cluster: bad message")
	// ErrNoOrigin is returned when no origin answers a request.
	ErrNoOrigin = errors.New("cluster: the origin did not answer")
)
