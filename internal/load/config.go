// Package load is onair's load generator: HTTP, WebRTC and WebSocket
// listeners against one running server on 127.0.0.1, with the server's CPU
// and memory read from /proc, so that onair and Icecast2 can be measured in
// the same run on the same machine. It starts no server itself.
package load

import (
	"fmt"
	"net"
	"net/url"
	"time"
)

// Bounds every run stays within, whatever it is asked.
const (
	MaxClients  = 20000
	MaxDuration = 10 * time.Minute
	MaxRamp     = 10 * time.Minute
	MaxEvents   = 1000
)

// Modes of bringing clients in.
const (
	ModeRamp  = "ramp"  // spread evenly over Config.Ramp
	ModeFlash = "flash" // all at once: a flash crowd
)

// Config is one load run. The zero value of every tuning field takes its
// default; Server and at least one kind of client are required.
type Config struct {
	// Server is the base URL, http://127.0.0.1:PORT. Any other host is
	// refused: load is only ever sent to this machine.
	Server string
	// Station is the station slug; StreamPath overrides its HTTP stream
	// path (default /stream/STATION), e.g. /test.mp3 for an Icecast mount.
	Station    string
	StreamPath string

	HTTP, WebRTC, WS int // clients of each kind

	Mode string        // ModeRamp (default) or ModeFlash
	Ramp time.Duration // ramp mode: time to bring everyone in; default 10 s
	// Duration is the steady phase, measured once everyone is in.
	// Default 10 s, at most MaxDuration.
	Duration time.Duration
	// Baseline is how long the server is watched before any client
	// connects. Default 2 s.
	Baseline time.Duration
	// Settle is the pause between the last connection and the steady
	// phase, so that start-up bursts are not counted as steady traffic.
	// Default 2 s.
	Settle time.Duration
	// MaxConnect bounds one client's connection: dial to first audio for
	// listeners, dial to the join answer for WebSocket clients. A client
	// that takes longer failed to get in. Default 5 s.
	MaxConnect time.Duration

	// DecodeSample is how many of the WebRTC listeners decode their Opus
	// (the rest only count packets).
	DecodeSample int
	// OpusFrame is the server's Opus packet duration; 0 reads it off the
	// packets' RTP timestamps.
	OpusFrame time.Duration

	// PID is the server's process id for /proc sampling; 0 samples nothing.
	PID int
	// SampleEvery is the /proc sampling period; default 1 s.
	SampleEvery time.Duration

	// Token is an owner or admin bearer token. With it and WS > 0, the
	// tool changes the station's metadata Events times during the steady
	// phase and times each stream:metadata at every WebSocket client.
	Token  string
	Events int // default 5 when Token is set

	// ExpectedRate is the stream's audio rate in bytes/s for the rate
	// check; 0 takes it from the icy-br header.
	ExpectedRate float64
	// Detail keeps one result per client in the report.
	Detail bool
	// Label names the server in the report ("onair", "icecast2").
	Label string
}

func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeRamp
	}
	setDur(&c.Ramp, 10*time.Second)
	setDur(&c.Duration, 10*time.Second)
	setDur(&c.Baseline, 2*time.Second)
	setDur(&c.Settle, 2*time.Second)
	setDur(&c.MaxConnect, 5*time.Second)
	setDur(&c.SampleEvery, time.Second)
	if c.Token != "" && c.Events == 0 {
		c.Events = 5
	}
	if c.StreamPath == "" && c.Station != "" {
		c.StreamPath = "/stream/" + c.Station
	}
	return c
}

func setDur(p *time.Duration, def time.Duration) {
	if *p <= 0 {
		*p = def
	}
}

// validate checks a config that has its defaults and returns the server's
// host:port.
func (c Config) validate() (string, error) {
	addr, err := loopbackAddr(c.Server)
	if err != nil {
		return "", err
	}
	total := c.HTTP + c.WebRTC + c.WS
	switch {
	case c.HTTP < 0 || c.WebRTC < 0 || c.WS < 0:
		return "", fmt.Errorf("%w: negative client count", ErrConfig)
	case total == 0:
		return "", fmt.Errorf("%w: no clients asked for", ErrConfig)
	case total > MaxClients:
		return "", fmt.Errorf("%w: %d clients, at most %d", ErrConfig, total, MaxClients)
	case c.Mode != ModeRamp && c.Mode != ModeFlash:
		return "", fmt.Errorf("%w: mode %q: want %s or %s", ErrConfig, c.Mode, ModeRamp, ModeFlash)
	case c.Duration > MaxDuration:
		return "", fmt.Errorf("%w: duration %v, at most %v", ErrConfig, c.Duration, MaxDuration)
	case c.Ramp > MaxRamp:
		return "", fmt.Errorf("%w: ramp %v, at most %v", ErrConfig, c.Ramp, MaxRamp)
	case c.Baseline > time.Minute || c.Settle > time.Minute || c.MaxConnect > time.Minute:
		return "", fmt.Errorf("%w: baseline, settle and max-connect are at most 1 min", ErrConfig)
	case c.Events < 0 || c.Events > MaxEvents:
		return "", fmt.Errorf("%w: %d events, at most %d", ErrConfig, c.Events, MaxEvents)
	case c.DecodeSample < 0:
		return "", fmt.Errorf("%w: negative decode sample", ErrConfig)
	case c.HTTP > 0 && c.StreamPath == "":
		return "", fmt.Errorf("%w: HTTP listeners need a station or a stream path", ErrConfig)
	case (c.WebRTC > 0 || c.WS > 0) && c.Station == "":
		return "", fmt.Errorf("%w: WebRTC and WebSocket clients need a station", ErrConfig)
	}
	return addr, nil
}

// loopbackAddr returns host:port of an http://127.0.0.1:PORT URL and
// refuses every other host: the tool sends load to this machine only.
func loopbackAddr(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("%w: server %q: %w", ErrConfig, server, err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("%w: server %q: scheme must be http", ErrConfig, server)
	}
	if u.Hostname() != "127.0.0.1" {
		return "", fmt.Errorf("%w: server %q", ErrNotLoopback, server)
	}
	if u.Port() == "" {
		return "", fmt.Errorf("%w: server %q has no port", ErrConfig, server)
	}
	if u.Path != "" && u.Path != "/" {
		return "", fmt.Errorf("%w: server %q: give the base URL, without a path", ErrConfig, server)
	}
	return net.JoinHostPort("127.0.0.1", u.Port()), nil
}
