// Package configs owns onair's configuration: the keys and their defaults,
// loading them with viper from a YAML file, ONAIR_* environment variables and
// flags, and validating them. Only cmd imports it; components get plain values.
package configs

import (
	"log/slog"
	"os"
	"time"

	"github.com/onairfm/onair"
)

// Config is the whole configuration. The mapstructure tags are the keys of
// the YAML file; see onair.example.yaml for what each one means.
type Config struct {
	HTTP    HTTP    `mapstructure:"http"`
	DataDir string  `mapstructure:"data_dir"`
	Admin   Admin   `mapstructure:"admin"`
	WebRTC  WebRTC  `mapstructure:"webrtc"`
	Upload  Upload  `mapstructure:"upload"`
	Opus    Opus    `mapstructure:"opus"`
	Audio   Audio   `mapstructure:"audio"`
	Log     Log     `mapstructure:"log"`
	Stream  Stream  `mapstructure:"stream"`
	Cluster Cluster `mapstructure:"cluster"`
	TLS     TLS     `mapstructure:"tls"`
	Limits  Limits  `mapstructure:"limits"`
	Metrics Metrics `mapstructure:"metrics"`
	Stats   Stats   `mapstructure:"stats"`
}

// HTTP configures the HTTP, WebSocket and stream server.
type HTTP struct {
	Addr string `mapstructure:"addr"`
	// PublicURL is the base URL the server is reached at from outside (a
	// reverse proxy), used for icy-url and the .m3u/.pls playlists. Empty:
	// derived from each request's Host. Load strips a trailing slash.
	PublicURL string `mapstructure:"public_url"`
	// AllowedOrigins are extra origins (scheme://host[:port]) allowed to open
	// the WebSocket and make cookie-authenticated requests; the server's own
	// origin is always allowed. Load lowercases them.
	AllowedOrigins []string `mapstructure:"allowed_origins"`
	// TrustedProxies are the CIDRs (or single addresses) of reverse
	// proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
	// Nobody else's are: anyone can send those headers.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
	// ReadTimeout closes a request whose headers or body stop arriving
	// for this long. Uploads and other bodies get it per read, so a slow
	// but steady upload is never cut.
	ReadTimeout time.Duration `mapstructure:"read_timeout"`
	// MaxConns caps the TCP connections open at once; past it new ones
	// wait in the kernel's backlog. 0 means no cap.
	MaxConns int `mapstructure:"max_conns"`
}

// TLS configures HTTPS on http.addr.
type TLS struct {
	// CertFile and KeyFile are PEM files; both or neither.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// ACMEDomains get certificates from an ACME CA (Let's Encrypt by
	// default) and renew them; the cache is data_dir/acme.
	ACMEDomains   []string `mapstructure:"acme_domains"`
	ACMEEmail     string   `mapstructure:"acme_email"`
	ACMEDirectory string   `mapstructure:"acme_directory"`
	// RedirectAddr, when set with TLS, serves plain HTTP there: ACME
	// HTTP-01 challenges and a redirect to https for everything else.
	RedirectAddr string `mapstructure:"redirect_addr"`
}

// Enabled reports whether the server speaks TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" || len(t.ACMEDomains) > 0 }

// Limits bound what one client address may hold open.
type Limits struct {
	SocketsPerIP int `mapstructure:"sockets_per_ip"`
	StreamsPerIP int `mapstructure:"streams_per_ip"`
}

// Metrics configures /metrics.
type Metrics struct {
	// Token, when set, is required as "Authorization: Bearer TOKEN".
	Token string `mapstructure:"token"`
}

// Admin configures the first administrator.
type Admin struct {
	// Password creates user "admin" with it on a start with no admin user.
	Password string `mapstructure:"password"`
}

// WebRTC configures ICE for browser listeners.
type WebRTC struct {
	LoopbackOnly bool     `mapstructure:"loopback_only"`
	UDPPort      int      `mapstructure:"udp_port"`
	TCPPort      int      `mapstructure:"tcp_port"`
	PublicIPs    []string `mapstructure:"public_ips"`
	ICEServers   []string `mapstructure:"ice_servers"`
	// Transport is how listeners are served: "lite" (ICE-lite, DTLS for
	// the keys, one SRTP context per listener) or "pion" (a full pion
	// PeerConnection each).
	Transport string `mapstructure:"transport"`
	// PacketMS bounds the audio, in ms, of each RTP packet to a listener:
	// the station's opus.frame_ms frames are joined while a packet stays
	// within it (RFC 6716 code 3). 20 to 120; at most one frame joins none.
	PacketMS int `mapstructure:"packet_ms"`
}

// Upload limits track uploads.
type Upload struct {
	MaxBytes int64 `mapstructure:"max_bytes"`
	// QuotaBytes caps the media stored per station; 0 means no quota.
	QuotaBytes int64 `mapstructure:"quota_bytes"`
}

// Opus configures the one Opus encoder of each live station.
type Opus struct {
	Bitrate int `mapstructure:"bitrate"`
	FrameMS int `mapstructure:"frame_ms"`
}

// FrameDuration returns FrameMS as a duration.
func (o Opus) FrameDuration() time.Duration { return time.Duration(o.FrameMS) * time.Millisecond }

// Audio is the sound new stations start with; each owner changes their
// station's own settings later.
type Audio struct {
	SampleRate     int     `mapstructure:"sample_rate"`     // the mix and MP3 output, Hz: 44100 or 48000
	MP3Bitrate     int     `mapstructure:"mp3_bitrate"`     // bit/s
	CrossfadeMS    int     `mapstructure:"crossfade_ms"`    // 0 cuts
	LoudnessTarget float64 `mapstructure:"loudness_target"` // LUFS
}

// Settings returns the station settings these defaults give: loudness
// normalisation on, no jingles.
func (a Audio) Settings() onair.AudioSettings {
	return onair.AudioSettings{
		SampleRate:      a.SampleRate,
		MP3Bitrate:      a.MP3Bitrate,
		Crossfade:       time.Duration(a.CrossfadeMS) * time.Millisecond,
		LoudnessEnabled: true,
		LoudnessTarget:  a.LoudnessTarget,
	}
}

// Log configures the process logger.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn or error
	Format string `mapstructure:"format"` // text or json
}

// SlogLevel returns Level as a slog.Level (info for anything unknown;
// Validate rejects unknown levels).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Stream configures HTTP listeners.
type Stream struct {
	// BurstSeconds of recent audio sent at once to a new HTTP listener, so
	// players start without waiting for their buffer to fill in real time.
	BurstSeconds float64 `mapstructure:"burst_seconds"`
}

// Burst returns BurstSeconds as a duration.
func (s Stream) Burst() time.Duration {
	return time.Duration(s.BurstSeconds * float64(time.Second))
}

// Cluster makes the process a node of a cluster over NATS. With neither
// NATSURL nor EmbeddedNATS it is a single node and runs no NATS code.
type Cluster struct {
	NATSURL      string `mapstructure:"nats_url"`
	EmbeddedNATS string `mapstructure:"embedded_nats"`
	Role         string `mapstructure:"role"` // origin or edge
	// Node is this node's name; empty: NodeName gives the host name.
	Node string `mapstructure:"node"`
}

// NodeName is Node, or the host name when Node is empty.
func (c Cluster) NodeName() string {
	if c.Node != "" {
		return c.Node
	}
	return hostName()
}

// Enabled reports whether the process joins a cluster.
func (c Cluster) Enabled() bool { return c.NATSURL != "" || c.EmbeddedNATS != "" }

// Stats configures the listener statistics.
type Stats struct {
	// SampleS is the seconds between two samples of each live station's
	// listeners.
	SampleS int `mapstructure:"sample_s"`
	// RetentionDays is how long samples and listening sessions are kept.
	RetentionDays int `mapstructure:"retention_days"`
}

// SampleEvery returns SampleS as a duration.
func (s Stats) SampleEvery() time.Duration { return time.Duration(s.SampleS) * time.Second }

// Retention returns RetentionDays as a duration.
func (s Stats) Retention() time.Duration { return time.Duration(s.RetentionDays) * 24 * time.Hour }

// LetsEncryptURL is the default ACME directory.
const LetsEncryptURL = "https://acme-v02.api.letsencrypt.org/directory"

// Default returns the built-in configuration: what Load gives with no file,
// environment or flags. It is the single source of the defaults.
func Default() Config {
	return Config{
		HTTP: HTTP{Addr: ":8000", AllowedOrigins: []string{}, TrustedProxies: []string{},
			ReadTimeout: 30 * time.Second, MaxConns: 10000},
		DataDir: "./data",
		WebRTC:  WebRTC{PublicIPs: []string{}, ICEServers: []string{}, Transport: "lite", PacketMS: 60},
		Upload:  Upload{MaxBytes: 200 << 20},
		Opus:    Opus{Bitrate: 96000, FrameMS: 20},
		Audio:   Audio{SampleRate: 44100, MP3Bitrate: 128000, CrossfadeMS: 2000, LoudnessTarget: -16},
		Log:     Log{Level: "info", Format: "text"},
		Stream:  Stream{BurstSeconds: 4},
		Cluster: Cluster{Role: "origin"},
		TLS:     TLS{ACMEDomains: []string{}, ACMEDirectory: LetsEncryptURL},
		Limits:  Limits{SocketsPerIP: 50, StreamsPerIP: 100},
		Stats:   Stats{SampleS: 60, RetentionDays: 90},
	}
}

// hostName is the default node name; "onair" when the system has none.
func hostName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "onair"
}
