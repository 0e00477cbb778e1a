package configs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// key is one configuration key. The table drives defaults, environment
// variables and flags, so the three cannot disagree.
type key struct {
	name   string // viper key, e.g. "opus.frame_ms"; also the flag name
	def    any    // string, bool, int, int64, float64 or []string
	usage  string
	noEnv  bool // the contract gives webrtc.ice_servers no variable
	noFlag bool // secrets stay off the command line, where ps shows them
}

// envPrefix starts every environment variable.
const envPrefix = "ONAIR_"

// env returns the key's environment variable: ONAIR_ and the key in upper
// case with dots turned into underscores; "" if it has none.
func (k key) env() string {
	if k.noEnv {
		return ""
	}
	return envPrefix + strings.ToUpper(strings.ReplaceAll(k.name, ".", "_"))
}

// keys returns the table of every key, with defaults taken from Default.
func keys() []key {
	d := Default()
	return []key{
		{name: "http.addr", def: d.HTTP.Addr, usage: "HTTP/WebSocket listen address"},
		{name: "http.public_url", def: d.HTTP.PublicURL, usage: "public base URL behind a proxy (icy-url, .m3u/.pls); empty = from the request Host"},
		{name: "http.allowed_origins", def: d.HTTP.AllowedOrigins, usage: "extra origins allowed for WebSocket and cookie requests, comma-separated"},
		{name: "http.trusted_proxies", def: d.HTTP.TrustedProxies, usage: "CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed, comma-separated"},
		{name: "http.read_timeout", def: d.HTTP.ReadTimeout.String(), usage: "close a request whose headers or body stop arriving for this long (per read for bodies)"},
		{name: "http.max_conns", def: d.HTTP.MaxConns, usage: "TCP connections open at once; 0 = no cap"},
		{name: "tls.cert_file", def: d.TLS.CertFile, usage: "PEM certificate: serve HTTPS and WSS on http.addr"},
		{name: "tls.key_file", def: d.TLS.KeyFile, usage: "PEM private key of tls.cert_file"},
		{name: "tls.acme_domains", def: d.TLS.ACMEDomains, usage: "get and renew certificates with ACME for these names, comma-separated"},
		{name: "tls.acme_email", def: d.TLS.ACMEEmail, usage: "contact address given to the ACME CA"},
		{name: "tls.acme_directory", def: d.TLS.ACMEDirectory, usage: "ACME directory URL"},
		{name: "tls.redirect_addr", def: d.TLS.RedirectAddr, usage: "with TLS, plain-HTTP address for ACME challenges and the redirect to https (e.g. :80)"},
		{name: "limits.sockets_per_ip", def: d.Limits.SocketsPerIP, usage: "WebSockets open at once from one client address"},
		{name: "limits.streams_per_ip", def: d.Limits.StreamsPerIP, usage: "HTTP stream listeners at once from one client address"},
		{name: "metrics.token", def: d.Metrics.Token, usage: "when set, /metrics wants Authorization: Bearer TOKEN", noFlag: true},
		{name: "data_dir", def: d.DataDir, usage: "directory for the database and media files"},
		{name: "admin.password", def: d.Admin.Password, usage: "password of user admin, created on a start with no admin", noFlag: true},
		{name: "webrtc.loopback_only", def: d.WebRTC.LoopbackOnly, usage: "ICE on 127.0.0.1 only (tests, single-host setups)"},
		{name: "webrtc.udp_port", def: d.WebRTC.UDPPort, usage: "one UDP port for all WebRTC peers; 0 = ephemeral ports"},
		{name: "webrtc.tcp_port", def: d.WebRTC.TCPPort, usage: "TCP port of ICE over TCP, for browsers whose UDP is blocked; 0 = an ephemeral port, -1 = off"},
		{name: "webrtc.public_ips", def: d.WebRTC.PublicIPs, usage: "1:1 NAT addresses to advertise, comma-separated"},
		{name: "webrtc.ice_servers", def: d.WebRTC.ICEServers, usage: "STUN/TURN URLs, comma-separated", noEnv: true},
		{name: "webrtc.packet_ms", def: d.WebRTC.PacketMS, usage: "audio per RTP packet to a WebRTC listener, ms (20-120): Opus frames are joined while a packet stays within it"},
		{name: "webrtc.transport", def: d.WebRTC.Transport, usage: "how WebRTC listeners are served: lite (ICE-lite + SRTP per listener) or pion (a full PeerConnection each)"},
		{name: "upload.max_bytes", def: d.Upload.MaxBytes, usage: "largest accepted MP3 upload, bytes"},
		{name: "upload.quota_bytes", def: d.Upload.QuotaBytes, usage: "media stored per station, bytes; 0 = no quota"},
		{name: "opus.bitrate", def: d.Opus.Bitrate, usage: "Opus bitrate for WebRTC listeners, bit/s"},
		{name: "opus.frame_ms", def: d.Opus.FrameMS, usage: "Opus frame duration, ms (20, 40 or 60)"},
		{name: "audio.sample_rate", def: d.Audio.SampleRate, usage: "MP3 output sample rate of new stations, Hz (44100 or 48000)"},
		{name: "audio.mp3_bitrate", def: d.Audio.MP3Bitrate, usage: "MP3 output bitrate of new stations, bit/s"},
		{name: "audio.crossfade_ms", def: d.Audio.CrossfadeMS, usage: "crossfade of new stations, ms (0 = cut)"},
		{name: "audio.loudness_target", def: d.Audio.LoudnessTarget, usage: "loudness target of new stations, LUFS"},
		{name: "log.level", def: d.Log.Level, usage: "log level: debug, info, warn or error"},
		{name: "log.format", def: d.Log.Format, usage: "log format: text or json"},
		{name: "stream.burst_seconds", def: d.Stream.BurstSeconds, usage: "seconds of recent audio sent at once to a new HTTP listener"},
		{name: "cluster.nats_url", def: d.Cluster.NATSURL, usage: "join a cluster through this NATS server (JetStream on); empty = one node, no NATS"},
		{name: "cluster.embedded_nats", def: d.Cluster.EmbeddedNATS, usage: "run a NATS server with JetStream in this process on this address (127.0.0.1:4222) and join through it"},
		{name: "cluster.role", def: d.Cluster.Role, usage: "origin (database, media, station clocks) or edge (listeners, pages, sockets; no database)"},
		{name: "cluster.node", def: d.Cluster.Node, usage: "this node's name in the cluster"},
		{name: "stats.sample_s", def: d.Stats.SampleS, usage: "seconds between listener-count samples kept for statistics"},
		{name: "stats.retention_days", def: d.Stats.RetentionDays, usage: "how long samples and listener sessions are kept, days"},
	}
}

// FlagConfig is the flag naming the YAML file.
const FlagConfig = "config"

// RegisterFlags adds --config and one flag per key (named like the key, e.g.
// --http.addr, --webrtc.loopback_only) to fs. cmd may add its own flags to
// the same set, parses it, and hands it to Load. admin.password has no flag:
// command lines are visible to every user of the machine. Flags already in
// fs are left alone.
func RegisterFlags(fs *pflag.FlagSet) {
	if fs.Lookup(FlagConfig) == nil {
		fs.String(FlagConfig, "", "YAML config file (default ./"+DefaultFile+" if present)")
	}
	for _, k := range keys() {
		if k.noFlag || fs.Lookup(k.name) != nil {
			continue
		}
		usage := k.usage
		if e := k.env(); e != "" {
			usage += " (env " + e + ")"
		}
		switch def := k.def.(type) {
		case string:
			fs.String(k.name, def, usage)
		case bool:
			fs.Bool(k.name, def, usage)
		case int:
			fs.Int(k.name, def, usage)
		case int64:
			fs.Int64(k.name, def, usage)
		case float64:
			fs.Float64(k.name, def, usage)
		case []string:
			fs.StringSlice(k.name, def, usage)
		}
	}
}

// parseEnv converts an environment value to the type of k's default.
// Lists are comma-separated; blanks around items and empty items are dropped.
func (k key) parseEnv(s string) (any, error) {
	var (
		v   any
		err error
	)
	switch k.def.(type) {
	case string:
		v = s
	case bool:
		v, err = strconv.ParseBool(strings.TrimSpace(s))
	case int:
		v, err = strconv.Atoi(strings.TrimSpace(s))
	case int64:
		v, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	case float64:
		v, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
	case []string:
		list := []string{}
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v = list
	default:
		err = fmt.Errorf("unsupported type %T", k.def)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s=%q is not a valid %T", ErrInvalid, k.env(), s, k.def)
	}
	return v, nil
}
