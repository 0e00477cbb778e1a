package configs

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validate reports every invalid value at once, each as "key must ..., got
// ...", so a user fixes the file in one go. Each problem wraps ErrInvalid.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if err := checkAddr(c.HTTP.Addr); err != "" {
		bad("http.addr must be host:port or :port, got %q (%s)", c.HTTP.Addr, err)
	}
	if c.HTTP.PublicURL != "" {
		if err := checkURL(c.HTTP.PublicURL, true); err != "" {
			bad("http.public_url must be an absolute http(s) URL, got %q (%s)", c.HTTP.PublicURL, err)
		}
	}
	for _, o := range c.HTTP.AllowedOrigins {
		if err := checkURL(o, false); err != "" {
			bad("http.allowed_origins entries must be origins like https://example.com, got %q (%s)", o, err)
		}
	}
	for _, p := range c.HTTP.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			bad("http.trusted_proxies entries must be CIDRs like 10.0.0.0/8 or addresses, got %q", p)
		}
	}
	if c.HTTP.ReadTimeout <= 0 {
		bad("http.read_timeout must be positive, got %v", c.HTTP.ReadTimeout)
	}
	if c.HTTP.MaxConns < 0 {
		bad("http.max_conns must be 0 (no cap) or positive, got %d", c.HTTP.MaxConns)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls.cert_file and tls.key_file go together: set both or neither")
	}
	if c.TLS.CertFile != "" && len(c.TLS.ACMEDomains) > 0 {
		bad("tls.cert_file and tls.acme_domains exclude each other: use one")
	}
	if len(c.TLS.ACMEDomains) > 0 {
		if err := checkURL(c.TLS.ACMEDirectory, true); err != "" {
			bad("tls.acme_directory must be an http(s) URL, got %q (%s)", c.TLS.ACMEDirectory, err)
		}
	}
	if c.TLS.RedirectAddr != "" {
		if err := checkAddr(c.TLS.RedirectAddr); err != "" {
			bad("tls.redirect_addr must be host:port or :port, got %q (%s)", c.TLS.RedirectAddr, err)
		}
	}
	if c.Limits.SocketsPerIP <= 0 {
		bad("limits.sockets_per_ip must be positive, got %d", c.Limits.SocketsPerIP)
	}
	if c.Limits.StreamsPerIP <= 0 {
		bad("limits.streams_per_ip must be positive, got %d", c.Limits.StreamsPerIP)
	}
	if c.Upload.QuotaBytes < 0 {
		bad("upload.quota_bytes must be 0 (no quota) or positive, got %d", c.Upload.QuotaBytes)
	}
	if p := c.Admin.Password; p != "" && utf8.RuneCountInString(p) < MinAdminPassword {
		bad("admin.password must be at least %d characters: a short one is guessed in minutes once the server is on the internet (leave it empty to get a one-time setup link in the log instead)", MinAdminPassword)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir must not be empty")
	}
	if c.WebRTC.UDPPort < 0 || c.WebRTC.UDPPort > 65535 {
		bad("webrtc.udp_port must be between 0 and 65535, got %d", c.WebRTC.UDPPort)
	}
	if c.WebRTC.Transport != "lite" && c.WebRTC.Transport != "pion" {
		bad("webrtc.transport must be lite or pion, got %q", c.WebRTC.Transport)
	}
	if c.WebRTC.TCPPort < -1 || c.WebRTC.TCPPort > 65535 {
		bad("webrtc.tcp_port must be between -1 (off) and 65535, got %d", c.WebRTC.TCPPort)
	}
	for _, ip := range c.WebRTC.PublicIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			bad("webrtc.public_ips entries must be IP addresses, got %q", ip)
		}
	}
	for _, s := range c.WebRTC.ICEServers {
		if !hasICEScheme(s) {
			bad("webrtc.ice_servers entries must start with stun:, stuns:, turn: or turns:, got %q", s)
		}
	}
	if c.Upload.MaxBytes <= 0 {
		bad("upload.max_bytes must be positive, got %d", c.Upload.MaxBytes)
	}
	if c.Opus.Bitrate < 6000 || c.Opus.Bitrate > 510000 {
		bad("opus.bitrate must be between 6000 and 510000 bit/s, got %d", c.Opus.Bitrate)
	}
	if c.Opus.FrameMS != 20 && c.Opus.FrameMS != 40 && c.Opus.FrameMS != 60 {
		bad("opus.frame_ms must be 20, 40 or 60, got %d", c.Opus.FrameMS)
	}
	if p := c.WebRTC.PacketMS; p < 20 || p > 120 {
		bad("webrtc.packet_ms must be between 20 and 120, got %d", p)
	}
	for _, p := range c.Audio.Settings().Problems() {
		bad("audio.%s", strings.Replace(p, "loudness target", "loudness_target", 1))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format must be text or json, got %q", c.Log.Format)
	}
	if b := c.Stream.BurstSeconds; math.IsNaN(b) || b < 0 || b > 30 {
		bad("stream.burst_seconds must be between 0 and 30, got %v", b)
	}
	if c.Cluster.Role != "origin" && c.Cluster.Role != "edge" {
		bad("cluster.role must be origin or edge, got %q", c.Cluster.Role)
	}
	if c.Cluster.EmbeddedNATS != "" {
		if err := checkAddr(c.Cluster.EmbeddedNATS); err != "" {
			bad("cluster.embedded_nats must be host:port, got %q (%s)", c.Cluster.EmbeddedNATS, err)
		}
	}
	if c.Cluster.NATSURL != "" && c.Cluster.EmbeddedNATS != "" {
		bad("cluster.nats_url and cluster.embedded_nats exclude each other: an embedded server is joined through its own address")
	}
	if c.Cluster.Enabled() && strings.ContainsAny(c.Cluster.NodeName(), ".*> \t") {
		bad("cluster.node must be a name without dots, spaces or wildcards, got %q", c.Cluster.NodeName())
	}
	if s := c.Stats.SampleS; s < 1 || s > 3600 {
		bad("stats.sample_s must be between 1 and 3600, got %d", s)
	}
	if d := c.Stats.RetentionDays; d < 1 || d > 3650 {
		bad("stats.retention_days must be between 1 and 3650, got %d", d)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("configs: %w", errors.Join(errs...))
}

// MinAdminPassword is the shortest admin.password accepted at start.
const MinAdminPassword = 8

// ParsePrefix reads a trusted-proxy entry: a CIDR, or one address taken as
// a prefix of its full length.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// checkAddr returns why addr is not a listen address, or "".
func checkAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "missing port"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "bad port"
	}
	return ""
}

// checkURL returns why s is not an http(s) base URL (withPath) or origin
// (!withPath), or "".
func checkURL(s string, withPath bool) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "unparsable"
	case u.Scheme != "http" && u.Scheme != "https":
		return "scheme must be http or https"
	case u.Host == "":
		return "no host"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "no user, query or fragment allowed"
	case !withPath && u.Path != "":
		return "an origin has no path"
	}
	return ""
}

// hasICEScheme reports whether s is a STUN or TURN URL (RFC 7064, 7065).
func hasICEScheme(s string) bool {
	scheme, rest, ok := strings.Cut(strings.ToLower(s), ":")
	if !ok || rest == "" {
		return false
	}
	switch scheme {
	case "stun", "stuns", "turn", "turns":
		return true
	}
	return false
}
