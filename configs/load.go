package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// DefaultFile is the YAML file Load reads from its directory when --config
// is not given, if it exists.
const DefaultFile = "onair.yaml"

// Load builds the configuration from, lowest precedence first: the defaults,
// the YAML file, ONAIR_* environment variables, then flags that were set on
// the command line. The result is validated.
//
// flags is the set RegisterFlags filled, already parsed by cmd (nil: no
// flags). Its --config names the YAML file, used as given; a missing file is
// then an error. Without --config, onair.yaml in dir is read if it exists
// (dir "" is the current directory). Taking dir and environ as parameters,
// rather than reading the process's, keeps tests parallel-safe.
//
// environ is in os.Environ form ("KEY=value"); the last of duplicates wins.
// The variable of a key is ONAIR_ and the key in upper case with dots as
// underscores (ONAIR_OPUS_FRAME_MS); lists are comma-separated. A variable
// set to "" counts as unset, as in viper. Unknown ONAIR_ variables are
// ignored; unknown keys in the file are errors, so typos do not go unseen.
//
// It uses its own viper instance: the process-wide one is never touched.
func Load(flags *pflag.FlagSet, environ []string, dir string) (*Config, error) {
	if flags != nil && !flags.Parsed() {
		return nil, fmt.Errorf("configs: load: %w", ErrFlagsNotParsed)
	}
	v := viper.New()
	table := keys()
	for _, k := range table {
		v.SetDefault(k.name, k.def)
	}
	if err := readFile(v, flags, dir); err != nil {
		return nil, err
	}
	env, err := envLayer(table, environ)
	if err != nil {
		return nil, fmt.Errorf("configs: environment: %w", err)
	}
	// Viper has no hook for an injected environment; merged into the file
	// layer it still sits above the file and below flags.
	if err := v.MergeConfigMap(env); err != nil {
		return nil, fmt.Errorf("configs: environment: %w", err)
	}
	if flags != nil {
		for _, k := range table {
			if f := flags.Lookup(k.name); f != nil && !k.noFlag {
				if err := v.BindPFlag(k.name, f); err != nil {
					return nil, fmt.Errorf("configs: flag --%s: %w", k.name, err)
				}
			}
		}
	}
	var c Config
	if err := v.UnmarshalExact(&c); err != nil {
		return nil, fmt.Errorf("configs: %w: %w", ErrInvalid, err)
	}
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// readFile reads --config, or dir/onair.yaml if present, into v.
func readFile(v *viper.Viper, flags *pflag.FlagSet, dir string) error {
	path, explicit := filepath.Join(dir, DefaultFile), false
	if flags != nil {
		if f := flags.Lookup(FlagConfig); f != nil && f.Value.String() != "" {
			path, explicit = f.Value.String(), true
		}
	}
	v.SetConfigFile(path)
	v.SetConfigType("yaml") // whatever the extension
	err := v.ReadInConfig()
	if err == nil {
		return nil
	}
	if !explicit && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("configs: --config %s: %w", path, err)
	}
	return fmt.Errorf("configs: read %s: %w", path, err)
}

// envLayer returns the nested map of the keys set in environ.
func envLayer(table []key, environ []string) (map[string]any, error) {
	vars := make(map[string]string)
	for _, kv := range environ {
		if name, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, envPrefix) {
			vars[name] = val
		}
	}
	layer := make(map[string]any)
	var errs []error
	for _, k := range table {
		name := k.env()
		s, ok := vars[name]
		if name == "" || !ok || s == "" {
			continue
		}
		val, err := k.parseEnv(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		setPath(layer, strings.Split(k.name, "."), val)
	}
	return layer, errors.Join(errs...)
}

// setPath sets m[a][b]...=val for path a.b..., creating inner maps.
func setPath(m map[string]any, path []string, val any) {
	for _, p := range path[:len(path)-1] {
		inner, ok := m[p].(map[string]any)
		if !ok {
			inner = make(map[string]any)
			m[p] = inner
		}
		m = inner
	}
	m[path[len(path)-1]] = val
}

// normalize puts values in the form the server compares them in.
func (c *Config) normalize() {
	c.Log.Level = strings.ToLower(strings.TrimSpace(c.Log.Level))
	c.Log.Format = strings.ToLower(strings.TrimSpace(c.Log.Format))
	c.HTTP.PublicURL = strings.TrimRight(strings.TrimSpace(c.HTTP.PublicURL), "/")
	for i, o := range c.HTTP.AllowedOrigins {
		c.HTTP.AllowedOrigins[i] = strings.TrimRight(strings.ToLower(strings.TrimSpace(o)), "/")
	}
	for i, d := range c.TLS.ACMEDomains {
		c.TLS.ACMEDomains[i] = strings.ToLower(strings.TrimSpace(d))
	}
	for _, list := range []*[]string{&c.HTTP.AllowedOrigins, &c.HTTP.TrustedProxies, &c.WebRTC.PublicIPs, &c.WebRTC.ICEServers, &c.TLS.ACMEDomains} {
		if *list == nil {
			*list = []string{}
		}
	}
}
