package configs

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// load parses args with the registered flags, then loads.
func load(t *testing.T, args, environ []string, dir string) (*Config, error) {
	t.Helper()
	fset := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fset)
	if err := fset.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return Load(fset, environ, dir)
}

// dirWith returns a temporary directory holding onair.yaml with content,
// or no file if content is "".
func dirWith(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if content != "" {
		if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Spelled out, not Default(), so a changed default fails here.
	want := Config{
		HTTP: HTTP{Addr: ":8000", PublicURL: "", AllowedOrigins: []string{}, TrustedProxies: []string{},
			ReadTimeout: 30 * time.Second, MaxConns: 10000},
		DataDir: "./data",
		Admin:   Admin{Password: ""},
		WebRTC:  WebRTC{LoopbackOnly: false, UDPPort: 0, PublicIPs: []string{}, ICEServers: []string{}, Transport: "lite", PacketMS: 60},
		Upload:  Upload{MaxBytes: 200 * 1024 * 1024},
		Opus:    Opus{Bitrate: 96000, FrameMS: 20},
		Audio:   Audio{SampleRate: 44100, MP3Bitrate: 128000, CrossfadeMS: 2000, LoudnessTarget: -16},
		Log:     Log{Level: "info", Format: "text"},
		Stream:  Stream{BurstSeconds: 4},
		Cluster: Cluster{NATSURL: "", EmbeddedNATS: "", Role: "origin", Node: ""},
		TLS:     TLS{ACMEDomains: []string{}, ACMEDirectory: "https://acme-v02.api.letsencrypt.org/directory"},
		Limits:  Limits{SocketsPerIP: 50, StreamsPerIP: 100},
		Stats:   Stats{SampleS: 60, RetentionDays: 90},
	}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("defaults:\ngot  %+v\nwant %+v", *c, want)
	}
	if d := Default(); !reflect.DeepEqual(d, want) {
		t.Fatalf("Default() = %+v, want %+v", d, want)
	}
	if err := want.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c2, err := Load(nil, nil, t.TempDir()); err != nil || !reflect.DeepEqual(*c2, want) {
		t.Fatalf("Load without flags = %+v, %v", c2, err)
	}
}

// TestContractKeys checks every key of the Running table of CONTRACT.md: it
// exists, has the contract's default, and its variable sets it.
func TestContractKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, env, value string
		get             func(*Config) any
		def, want       any
	}{
		{"http.addr", "ONAIR_HTTP_ADDR", "127.0.0.1:9000", func(c *Config) any { return c.HTTP.Addr }, ":8000", "127.0.0.1:9000"},
		{"data_dir", "ONAIR_DATA_DIR", "/var/lib/onair", func(c *Config) any { return c.DataDir }, "./data", "/var/lib/onair"},
		{"admin.password", "ONAIR_ADMIN_PASSWORD", "s3cret pass", func(c *Config) any { return c.Admin.Password }, "", "s3cret pass"},
		{"webrtc.loopback_only", "ONAIR_WEBRTC_LOOPBACK_ONLY", "true", func(c *Config) any { return c.WebRTC.LoopbackOnly }, false, true},
		{"webrtc.udp_port", "ONAIR_WEBRTC_UDP_PORT", "50000", func(c *Config) any { return c.WebRTC.UDPPort }, 0, 50000},
		{"webrtc.tcp_port", "ONAIR_WEBRTC_TCP_PORT", "8443", func(c *Config) any { return c.WebRTC.TCPPort }, 0, 8443},
		{"webrtc.transport", "ONAIR_WEBRTC_TRANSPORT", "pion", func(c *Config) any { return c.WebRTC.Transport }, "lite", "pion"},
		{"webrtc.public_ips", "ONAIR_WEBRTC_PUBLIC_IPS", "203.0.113.7, 2001:db8::1", func(c *Config) any { return c.WebRTC.PublicIPs }, []string{}, []string{"203.0.113.7", "2001:db8::1"}},
		{"webrtc.ice_servers", "", "", func(c *Config) any { return c.WebRTC.ICEServers }, []string{}, nil},
		{"upload.max_bytes", "ONAIR_UPLOAD_MAX_BYTES", "1048576", func(c *Config) any { return c.Upload.MaxBytes }, int64(200 << 20), int64(1 << 20)},
		{"opus.bitrate", "ONAIR_OPUS_BITRATE", "64000", func(c *Config) any { return c.Opus.Bitrate }, 96000, 64000},
		{"webrtc.packet_ms", "ONAIR_WEBRTC_PACKET_MS", "120", func(c *Config) any { return c.WebRTC.PacketMS }, 60, 120},
		{"opus.frame_ms", "ONAIR_OPUS_FRAME_MS", "60", func(c *Config) any { return c.Opus.FrameMS }, 20, 60},
		{"audio.sample_rate", "ONAIR_AUDIO_SAMPLE_RATE", "48000", func(c *Config) any { return c.Audio.SampleRate }, 44100, 48000},
		{"audio.mp3_bitrate", "ONAIR_AUDIO_MP3_BITRATE", "192000", func(c *Config) any { return c.Audio.MP3Bitrate }, 128000, 192000},
		{"audio.crossfade_ms", "ONAIR_AUDIO_CROSSFADE_MS", "0", func(c *Config) any { return c.Audio.CrossfadeMS }, 2000, 0},
		{"audio.loudness_target", "ONAIR_AUDIO_LOUDNESS_TARGET", "-23", func(c *Config) any { return c.Audio.LoudnessTarget }, -16.0, -23.0},
		// Keys beyond the contract table.
		{"http.public_url", "ONAIR_HTTP_PUBLIC_URL", "https://radio.example.com", func(c *Config) any { return c.HTTP.PublicURL }, "", "https://radio.example.com"},
		{"http.allowed_origins", "ONAIR_HTTP_ALLOWED_ORIGINS", "https://a.example,http://b.example:8080", func(c *Config) any { return c.HTTP.AllowedOrigins }, []string{}, []string{"https://a.example", "http://b.example:8080"}},
		{"log.level", "ONAIR_LOG_LEVEL", "debug", func(c *Config) any { return c.Log.Level }, "info", "debug"},
		{"log.format", "ONAIR_LOG_FORMAT", "json", func(c *Config) any { return c.Log.Format }, "text", "json"},
		{"stream.burst_seconds", "ONAIR_STREAM_BURST_SECONDS", "1.5", func(c *Config) any { return c.Stream.BurstSeconds }, 4.0, 1.5},
		{"cluster.nats_url", "ONAIR_CLUSTER_NATS_URL", "nats://127.0.0.1:4222", func(c *Config) any { return c.Cluster.NATSURL }, "", "nats://127.0.0.1:4222"},
		{"cluster.embedded_nats", "ONAIR_CLUSTER_EMBEDDED_NATS", "127.0.0.1:4222", func(c *Config) any { return c.Cluster.EmbeddedNATS }, "", "127.0.0.1:4222"},
		{"cluster.role", "ONAIR_CLUSTER_ROLE", "edge", func(c *Config) any { return c.Cluster.Role }, "origin", "edge"},
		{"cluster.node", "ONAIR_CLUSTER_NODE", "edge-1", func(c *Config) any { return c.Cluster.Node }, "", "edge-1"},
		{"http.trusted_proxies", "ONAIR_HTTP_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1", func(c *Config) any { return c.HTTP.TrustedProxies }, []string{}, []string{"10.0.0.0/8", "127.0.0.1"}},
		{"http.read_timeout", "ONAIR_HTTP_READ_TIMEOUT", "5s", func(c *Config) any { return c.HTTP.ReadTimeout }, 30 * time.Second, 5 * time.Second},
		{"http.max_conns", "ONAIR_HTTP_MAX_CONNS", "500", func(c *Config) any { return c.HTTP.MaxConns }, 10000, 500},
		{"tls.cert_file", "ONAIR_TLS_CERT_FILE", "/c.pem", func(c *Config) any { return c.TLS.CertFile }, "", "/c.pem"},
		{"tls.key_file", "ONAIR_TLS_KEY_FILE", "/k.pem", func(c *Config) any { return c.TLS.KeyFile }, "", "/k.pem"},
		{"tls.acme_domains", "ONAIR_TLS_ACME_DOMAINS", "Radio.Example.org", func(c *Config) any { return c.TLS.ACMEDomains }, []string{}, []string{"radio.example.org"}},
		{"tls.acme_email", "ONAIR_TLS_ACME_EMAIL", "ops@example.org", func(c *Config) any { return c.TLS.ACMEEmail }, "", "ops@example.org"},
		{"tls.acme_directory", "ONAIR_TLS_ACME_DIRECTORY", "https://127.0.0.1:14000/dir", func(c *Config) any { return c.TLS.ACMEDirectory }, LetsEncryptURL, "https://127.0.0.1:14000/dir"},
		{"tls.redirect_addr", "ONAIR_TLS_REDIRECT_ADDR", ":80", func(c *Config) any { return c.TLS.RedirectAddr }, "", ":80"},
		{"limits.sockets_per_ip", "ONAIR_LIMITS_SOCKETS_PER_IP", "5", func(c *Config) any { return c.Limits.SocketsPerIP }, 50, 5},
		{"limits.streams_per_ip", "ONAIR_LIMITS_STREAMS_PER_IP", "7", func(c *Config) any { return c.Limits.StreamsPerIP }, 100, 7},
		{"metrics.token", "ONAIR_METRICS_TOKEN", "tok", func(c *Config) any { return c.Metrics.Token }, "", "tok"},
		{"upload.quota_bytes", "ONAIR_UPLOAD_QUOTA_BYTES", "1000", func(c *Config) any { return c.Upload.QuotaBytes }, int64(0), int64(1000)},
		{"stats.sample_s", "ONAIR_STATS_SAMPLE_S", "15", func(c *Config) any { return c.Stats.SampleS }, 60, 15},
		{"stats.retention_days", "ONAIR_STATS_RETENTION_DAYS", "30", func(c *Config) any { return c.Stats.RetentionDays }, 90, 30},
	}
	table := keys()
	if len(tests) != len(table) {
		t.Errorf("%d keys in the table, %d tested", len(table), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			i := slices.IndexFunc(table, func(k key) bool { return k.name == tt.key })
			if i < 0 {
				t.Fatalf("key %s missing", tt.key)
			}
			if got := table[i].env(); got != tt.env {
				t.Fatalf("env var %q, want %q", got, tt.env)
			}
			c, err := load(t, nil, nil, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.def) {
				t.Fatalf("default %#v, want %#v", got, tt.def)
			}
			if tt.env == "" {
				return
			}
			// The certificate and its key are only valid together.
			companion := map[string]string{"tls.cert_file": "ONAIR_TLS_KEY_FILE=/k.pem", "tls.key_file": "ONAIR_TLS_CERT_FILE=/c.pem"}
			environ := []string{tt.env + "=" + tt.value}
			if c, ok := companion[tt.key]; ok {
				environ = append(environ, c)
			}
			c, err = load(t, nil, environ, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("with %s=%s: %#v, want %#v", tt.env, tt.value, got, tt.want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	const file = `
http:
  addr: ":1001"
webrtc:
  loopback_only: true
  udp_port: 1001
  public_ips: ["10.0.0.1"]
opus:
  frame_ms: 40
`
	env := []string{
		"ONAIR_HTTP_ADDR=:1002",
		"ONAIR_WEBRTC_LOOPBACK_ONLY=false",
		"ONAIR_WEBRTC_UDP_PORT=1002",
		"ONAIR_WEBRTC_PUBLIC_IPS=10.0.0.2,10.0.0.3",
	}
	flags := []string{"--http.addr=:1003", "--webrtc.loopback_only", "--webrtc.udp_port=1003", "--webrtc.public_ips=10.0.0.4"}
	tests := []struct {
		name  string
		file  string
		env   []string
		args  []string
		check func(c *Config) (got, want any)
	}{
		{"file overrides default", file, nil, nil, func(c *Config) (any, any) {
			return []any{c.HTTP.Addr, c.WebRTC.LoopbackOnly, c.WebRTC.UDPPort, c.WebRTC.PublicIPs, c.Opus.FrameMS},
				[]any{":1001", true, 1001, []string{"10.0.0.1"}, 40}
		}},
		{"env overrides file", file, env, nil, func(c *Config) (any, any) {
			return []any{c.HTTP.Addr, c.WebRTC.LoopbackOnly, c.WebRTC.UDPPort, c.WebRTC.PublicIPs, c.Opus.FrameMS},
				[]any{":1002", false, 1002, []string{"10.0.0.2", "10.0.0.3"}, 40}
		}},
		{"flag overrides env", file, env, flags, func(c *Config) (any, any) {
			return []any{c.HTTP.Addr, c.WebRTC.LoopbackOnly, c.WebRTC.UDPPort, c.WebRTC.PublicIPs, c.Opus.FrameMS},
				[]any{":1003", true, 1003, []string{"10.0.0.4"}, 40}
		}},
		{"flag overrides default", "", nil, append(flags, "--stream.burst_seconds=2.5", "--upload.max_bytes=1000", "--log.format=json"), func(c *Config) (any, any) {
			return []any{c.HTTP.Addr, c.WebRTC.UDPPort, c.Opus.FrameMS, c.Stream.BurstSeconds, c.Upload.MaxBytes, c.Log.Format},
				[]any{":1003", 1003, 20, 2.5, int64(1000), "json"}
		}},
		{"list from env can be emptied", "webrtc:\n  public_ips: [\"10.0.0.1\"]\n", []string{"ONAIR_WEBRTC_PUBLIC_IPS= , "}, nil, func(c *Config) (any, any) {
			return c.WebRTC.PublicIPs, []string{}
		}},
		{"unset flags do not override", file, env, []string{"--opus.frame_ms=60"}, func(c *Config) (any, any) {
			return []any{c.HTTP.Addr, c.WebRTC.UDPPort, c.Opus.FrameMS}, []any{":1002", 1002, 60}
		}},
		{"empty env var counts as unset", file, []string{"ONAIR_HTTP_ADDR="}, nil, func(c *Config) (any, any) {
			return c.HTTP.Addr, ":1001"
		}},
		{"last duplicate wins", "", []string{"ONAIR_HTTP_ADDR=:1", "ONAIR_HTTP_ADDR=:2"}, nil, func(c *Config) (any, any) {
			return c.HTTP.Addr, ":2"
		}},
		{"unknown ONAIR_ variables are ignored", "", []string{"ONAIR_NOT_A_KEY=1", "OTHER=x", "NOEQUALS"}, nil, func(c *Config) (any, any) {
			return c.HTTP.Addr, ":8000"
		}},
		{"file sets one nested key, others keep defaults", "opus:\n  bitrate: 64000\n", nil, nil, func(c *Config) (any, any) {
			return []any{c.Opus.Bitrate, c.Opus.FrameMS}, []any{64000, 20}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.args, tt.env, dirWith(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tt.check(c); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestConfigFileSelection(t *testing.T) {
	t.Parallel()
	other := filepath.Join(t.TempDir(), "custom.conf")
	if err := os.WriteFile(other, []byte("http:\n  addr: \":2002\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	tests := []struct {
		name     string
		dirFile  string
		args     []string
		wantAddr string
		wantErr  error
	}{
		{"no file: defaults", "", nil, ":8000", nil},
		{"./onair.yaml picked up", "http:\n  addr: \":2001\"\n", nil, ":2001", nil},
		{"--config wins over ./onair.yaml, any extension", "http:\n  addr: \":2001\"\n", []string{"--config", other}, ":2002", nil},
		{"--config missing file", "", []string{"--config=" + missing}, "", fs.ErrNotExist},
		{"--config missing even with ./onair.yaml", "http:\n  addr: \":2001\"\n", []string{"--config=" + missing}, "", fs.ErrNotExist},
		{"empty file", "\n", nil, ":8000", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.args, nil, dirWith(t, tt.dirFile))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "--config "+missing) {
					t.Fatalf("error %v, want %v naming the file", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTP.Addr != tt.wantAddr {
				t.Fatalf("http.addr %q, want %q", c.HTTP.Addr, tt.wantAddr)
			}
		})
	}
}

func TestInvalidValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		file        string
		env         []string
		want        []string // substrings of the error
		wantInvalid bool     // wraps ErrInvalid
	}{
		{"frame_ms 30", "opus:\n  frame_ms: 30\n", nil, []string{"opus.frame_ms must be 20, 40 or 60, got 30"}, true},
		{"packet_ms 10", "webrtc:\n  packet_ms: 10\n", nil, []string{"webrtc.packet_ms must be between 20 and 120, got 10"}, true},
		{"packet_ms 150 from env", "", []string{"ONAIR_WEBRTC_PACKET_MS=150"}, []string{"webrtc.packet_ms must be between 20 and 120, got 150"}, true},
		{"frame_ms from env", "", []string{"ONAIR_OPUS_FRAME_MS=10"}, []string{"opus.frame_ms must be 20, 40 or 60, got 10"}, true},
		{"negative max bytes", "upload:\n  max_bytes: -1\n", nil, []string{"upload.max_bytes must be positive, got -1"}, true},
		{"bad log level", "log:\n  level: loud\n", nil, []string{`log.level must be debug, info, warn or error, got "loud"`}, true},
		{"bad log format", "", []string{"ONAIR_LOG_FORMAT=xml"}, []string{`log.format must be text or json, got "xml"`}, true},
		{"bitrate out of range", "opus:\n  bitrate: 1000000\n", nil, []string{"opus.bitrate must be between 6000 and 510000"}, true},
		{"udp port out of range", "", []string{"ONAIR_WEBRTC_UDP_PORT=70000"}, []string{"webrtc.udp_port must be between 0 and 65535, got 70000"}, true},
		{"tcp port out of range", "", []string{"ONAIR_WEBRTC_TCP_PORT=-2"}, []string{"webrtc.tcp_port must be between -1 (off) and 65535, got -2"}, true},
		{"unknown webrtc transport", "", []string{"ONAIR_WEBRTC_TRANSPORT=quic"}, []string{`webrtc.transport must be lite or pion, got "quic"`}, true},
		{"bad public ip", "", []string{"ONAIR_WEBRTC_PUBLIC_IPS=1.2.3.4,not-an-ip"}, []string{`webrtc.public_ips entries must be IP addresses, got "not-an-ip"`}, true},
		{"bad ice server", "webrtc:\n  ice_servers: [\"http://stun.example.com\"]\n", nil, []string{"webrtc.ice_servers entries must start with stun:"}, true},
		{"addr without port", "", []string{"ONAIR_HTTP_ADDR=8000"}, []string{`http.addr must be host:port or :port, got "8000"`}, true},
		{"public url not http", "http:\n  public_url: ftp://example.com\n", nil, []string{"http.public_url must be an absolute http(s) URL"}, true},
		{"origin with a path", "http:\n  allowed_origins: [\"https://example.com/app\"]\n", nil, []string{"http.allowed_origins entries must be origins"}, true},
		{"wildcard origin", "", []string{"ONAIR_HTTP_ALLOWED_ORIGINS=*"}, []string{"http.allowed_origins"}, true},
		{"audio sample rate", "", []string{"ONAIR_AUDIO_SAMPLE_RATE=22050"}, []string{"audio.sample_rate must be 44100 or 48000, got 22050"}, true},
		{"audio bitrate", "audio:\n  mp3_bitrate: 100000\n", nil, []string{"audio.mp3_bitrate must be an MP3 bitrate"}, true},
		{"audio crossfade", "audio:\n  crossfade_ms: 20000\n", nil, []string{"audio.crossfade_ms must be between 0 and 10000, got 20000"}, true},
		{"audio loudness", "", []string{"ONAIR_AUDIO_LOUDNESS_TARGET=0"}, []string{"audio.loudness_target must be between -30 and -5 LUFS, got 0"}, true},
		{"burst too long", "stream:\n  burst_seconds: 45\n", nil, []string{"stream.burst_seconds must be between 0 and 30, got 45"}, true},
		{"sample step zero", "stats:\n  sample_s: 0\n", nil, []string{"stats.sample_s must be between 1 and 3600, got 0"}, true},
		{"retention negative", "", []string{"ONAIR_STATS_RETENTION_DAYS=-1"}, []string{"stats.retention_days must be between 1 and 3650, got -1"}, true},
		{"empty data dir", "data_dir: \"\"\n", nil, []string{"data_dir must not be empty"}, true},
		{"env not a number", "", []string{"ONAIR_OPUS_FRAME_MS=abc"}, []string{`ONAIR_OPUS_FRAME_MS="abc" is not a valid int`}, true},
		{"env not a bool", "", []string{"ONAIR_WEBRTC_LOOPBACK_ONLY=yes please"}, []string{"ONAIR_WEBRTC_LOOPBACK_ONLY"}, true},
		{"file value of the wrong type", "opus:\n  frame_ms: twenty\n", nil, []string{"frame_ms"}, true},
		{"unknown key in file", "http:\n  adr: \":1\"\n", nil, []string{"adr"}, true},
		{"all problems at once", "opus:\n  frame_ms: 30\nupload:\n  max_bytes: 0\n", nil, []string{"opus.frame_ms", "upload.max_bytes"}, true},
		{"weak admin password", "", []string{"ONAIR_ADMIN_PASSWORD=a"}, []string{"admin.password must be at least 8 characters"}, true},
		{"cert without key", "", []string{"ONAIR_TLS_CERT_FILE=/c.pem"}, []string{"tls.cert_file and tls.key_file go together"}, true},
		{"bad trusted proxy", "", []string{"ONAIR_HTTP_TRUSTED_PROXIES=10.0.0.0/99"}, []string{"http.trusted_proxies"}, true},
		{"zero read timeout", "", []string{"ONAIR_HTTP_READ_TIMEOUT=0s"}, []string{"http.read_timeout must be positive"}, true},
		{"unparsable read timeout", "", []string{"ONAIR_HTTP_READ_TIMEOUT=soon"}, []string{"read_timeout"}, true},
		{"zero sockets per ip", "", []string{"ONAIR_LIMITS_SOCKETS_PER_IP=0"}, []string{"limits.sockets_per_ip must be positive"}, true},
		{"malformed YAML", "http: [unclosed\n  addr: :1\n", nil, []string{"onair.yaml"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, nil, tt.env, dirWith(t, tt.file))
			if err == nil {
				t.Fatalf("loaded %+v, want an error", c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if errors.Is(err, ErrInvalid) != tt.wantInvalid {
				t.Errorf("errors.Is(err, ErrInvalid) = %v, want %v (err %v)", !tt.wantInvalid, tt.wantInvalid, err)
			}
		})
	}
}

func TestValidateZeroConfig(t *testing.T) {
	t.Parallel()
	var c Config
	err := c.Validate()
	for _, key := range []string{"http.addr", "data_dir", "upload.max_bytes", "opus.bitrate", "opus.frame_ms", "audio.sample_rate", "audio.mp3_bitrate", "log.level", "log.format"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("zero Config: error %v does not mention %s", err, key)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, []string{
		"ONAIR_LOG_LEVEL=DEBUG",
		"ONAIR_LOG_FORMAT=JSON",
		"ONAIR_HTTP_PUBLIC_URL=https://radio.example.com/onair/",
		"ONAIR_HTTP_ALLOWED_ORIGINS=HTTPS://App.Example.com/",
	}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Log.Level, c.Log.Format, c.HTTP.PublicURL, c.HTTP.AllowedOrigins}
	want := []any{"debug", "json", "https://radio.example.com/onair", []string{"https://app.example.com"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestLoadNeedsParsedFlags(t *testing.T) {
	t.Parallel()
	fset := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fset)
	if _, err := Load(fset, nil, t.TempDir()); !errors.Is(err, ErrFlagsNotParsed) {
		t.Fatalf("error %v, want ErrFlagsNotParsed", err)
	}
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	fset := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fset)
	RegisterFlags(fset) // a second call must not redefine (pflag would panic)
	for _, k := range keys() {
		f := fset.Lookup(k.name)
		if k.noFlag != (f == nil) {
			t.Errorf("flag --%s: present %v, want %v", k.name, f != nil, !k.noFlag)
		}
	}
	if fset.Lookup("admin.password") != nil {
		t.Error("admin.password must not be a flag: command lines are visible to all users")
	}
	if fset.Lookup(FlagConfig) == nil {
		t.Error("no --config flag")
	}
	if err := fset.Parse([]string{"--opus.frame_ms=abc"}); err == nil {
		t.Error("--opus.frame_ms=abc parsed without error")
	}
	// A command's own flags live in the same set and are left to it.
	cmd := pflag.NewFlagSet("user", pflag.ContinueOnError)
	role := cmd.String("role", "listener", "")
	RegisterFlags(cmd)
	if err := cmd.Parse([]string{"--role=owner", "--data_dir=/srv/onair", "alice"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cmd, nil, t.TempDir())
	if err != nil || c.DataDir != "/srv/onair" || *role != "owner" || cmd.Arg(0) != "alice" {
		t.Fatalf("shared flag set: %+v, %v, role %q, args %v", c, err, *role, cmd.Args())
	}
}

// TestExampleFile keeps onair.example.yaml honest: it loads, validates,
// equals the defaults, sets every key explicitly and names every variable.
func TestExampleFile(t *testing.T) {
	t.Parallel()
	const example = "onair.example.yaml"
	c, err := load(t, []string{"--config", example}, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if d := Default(); !reflect.DeepEqual(*c, d) {
		t.Fatalf("example differs from the defaults:\ngot  %+v\nwant %+v", *c, d)
	}
	raw := viper.New()
	raw.SetConfigFile(example)
	raw.SetConfigType("yaml")
	if err := raw.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys() {
		names = append(names, k.name)
	}
	got := raw.AllKeys()
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Fatalf("example sets keys %v, want exactly %v", got, names)
	}
	text, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys() {
		if e := k.env(); e != "" && !strings.Contains(string(text), "Env "+e+".") {
			t.Errorf("example does not name %s for %s", e, k.name)
		}
	}
	if n := strings.Count(string(text), "Default "); n != len(names) {
		t.Errorf("example documents %d defaults, want %d (one per key)", n, len(names))
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	if d := (Opus{FrameMS: 40}).FrameDuration(); d != 40*time.Millisecond {
		t.Errorf("FrameDuration = %v", d)
	}
	if d := (Stream{BurstSeconds: 1.5}).Burst(); d != 1500*time.Millisecond {
		t.Errorf("Burst = %v", d)
	}
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		if got := (Log{Level: level}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", level, got, want)
		}
	}
}
