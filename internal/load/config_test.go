package load

import (
	"errors"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Config{Server: "http://127.0.0.1:8000", Station: "jazz", HTTP: 10}
	tests := []struct {
		name string
		edit func(*Config)
		want error // nil: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"trailing slash", func(c *Config) { c.Server = "http://127.0.0.1:8000/" }, nil},
		{"localhost by name", func(c *Config) { c.Server = "http://localhost:8000" }, ErrNotLoopback},
		{"other loopback address", func(c *Config) { c.Server = "http://127.0.0.2:8000" }, ErrNotLoopback},
		{"private address", func(c *Config) { c.Server = "http://10.0.0.1:8000" }, ErrNotLoopback},
		{"public name", func(c *Config) { c.Server = "http://example.com:80" }, ErrNotLoopback},
		{"ipv6 loopback", func(c *Config) { c.Server = "http://[::1]:8000" }, ErrNotLoopback},
		{"userinfo trick", func(c *Config) { c.Server = "http://127.0.0.1:80@example.com:80" }, ErrNotLoopback},
		{"https", func(c *Config) { c.Server = "https://127.0.0.1:8000" }, ErrConfig},
		{"no port", func(c *Config) { c.Server = "http://127.0.0.1" }, ErrConfig},
		{"path", func(c *Config) { c.Server = "http://127.0.0.1:8000/stream/x" }, ErrConfig},
		{"no clients", func(c *Config) { c.HTTP = 0 }, ErrConfig},
		{"negative", func(c *Config) { c.WS = -1 }, ErrConfig},
		{"too many", func(c *Config) { c.HTTP, c.WS = MaxClients, 1 }, ErrConfig},
		{"bad mode", func(c *Config) { c.Mode = "storm" }, ErrConfig},
		{"too long", func(c *Config) { c.Duration = MaxDuration + time.Second }, ErrConfig},
		{"ramp too long", func(c *Config) { c.Ramp = MaxRamp + time.Second }, ErrConfig},
		{"too many events", func(c *Config) { c.Events = MaxEvents + 1 }, ErrConfig},
		{"webrtc without station", func(c *Config) { c.Station, c.StreamPath, c.WebRTC = "", "/x.mp3", 1 }, ErrConfig},
		{"icecast mount", func(c *Config) { c.Station, c.StreamPath = "", "/test.mp3" }, nil},
		{"http without path", func(c *Config) { c.Station = "" }, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := c.withDefaults().validate()
			if tt.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Station: "jazz", Token: "t"}.withDefaults()
	if c.Mode != ModeRamp || c.Duration != 10*time.Second || c.MaxConnect != 5*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if c.StreamPath != "/stream/jazz" {
		t.Errorf("stream path %q", c.StreamPath)
	}
	if c.Events != 5 {
		t.Errorf("events %d with a token, want 5", c.Events)
	}
	if c := (Config{}).withDefaults(); c.Events != 0 {
		t.Errorf("events %d without a token, want 0", c.Events)
	}
}
