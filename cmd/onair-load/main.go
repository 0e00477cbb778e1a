// Command onair-load sends a bounded load of HTTP, WebRTC and WebSocket
// listeners to a server already running on 127.0.0.1 and prints what it
// measured. It starts no server: the scripts in scripts/ do. main only
// wires flags to internal/load.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/onairfm/onair/internal/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "onair-load:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  onair-load [run] --server http://127.0.0.1:PORT --station SLUG --http N --webrtc N --ws N [flags]
  onair-load prepare --server URL --user admin --password PW --name NAME FILE.mp3...
      log in, create a station, upload files, start it; prints "SLUG TOKEN"
  onair-load compare [--title T] A.json B.json    side by side, with ratios A/B
  onair-load check [--ttfb-p99 1s] [--offer-p99 2s] [--loss 1] A.json...
      exit 1 unless every listener of each report got in, stayed, kept up
      and never ran dry, within the bounds; prints why not
  onair-load wait --server URL [--path /healthz] [--timeout 20s]   until it answers 200
  onair-load freeport                             print a free 127.0.0.1 TCP port
  onair-load naive --addr 127.0.0.1:PORT [--for 10m] [--frame 20ms]
      serve the naive pion reference (one shared sample track, pion's
      defaults, 20 ms packets unless --frame) for WebRTC listeners of any
      station name, until stopped
`

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cmd := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runLoad(ctx, args, stdout)
	case "prepare":
		return prepare(ctx, args, stdout)
	case "compare":
		return compare(args, stdout)
	case "check":
		return check(args, stdout)
	case "wait":
		return wait(ctx, args)
	case "freeport":
		p, err := load.FreePort()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p)
		return nil
	case "naive":
		return naive(ctx, args)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func runLoad(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg load.Config
	var jsonFile string
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8000", "server base URL; only 127.0.0.1 is allowed")
	fs.StringVar(&cfg.Station, "station", "", "station slug")
	fs.StringVar(&cfg.StreamPath, "stream-path", "", "HTTP stream path (default /stream/STATION; /MOUNT for Icecast)")
	fs.StringVar(&cfg.Label, "label", "", "name of the server in the report")
	fs.IntVar(&cfg.HTTP, "http", 0, "HTTP listeners")
	fs.IntVar(&cfg.WebRTC, "webrtc", 0, "WebRTC listeners")
	fs.IntVar(&cfg.WS, "ws", 0, "WebSocket clients joined to the station")
	fs.StringVar(&cfg.Mode, "mode", load.ModeRamp, "ramp or flash (everyone at once)")
	fs.DurationVar(&cfg.Ramp, "ramp", 0, "ramp mode: time to bring everyone in (default 10s)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "steady phase (default 10s, at most 10m)")
	fs.DurationVar(&cfg.Baseline, "baseline", 0, "server watched with no clients first (default 2s)")
	fs.DurationVar(&cfg.Settle, "settle", 0, "pause between connecting and the steady phase (default 2s)")
	fs.DurationVar(&cfg.MaxConnect, "max-connect", 0, "a client not in by then failed (default 5s)")
	fs.IntVar(&cfg.DecodeSample, "decode-sample", 0, "WebRTC listeners that decode their Opus")
	fs.DurationVar(&cfg.OpusFrame, "opus-frame", 0, "the server's Opus packet duration (default: read off the RTP timestamps)")
	fs.IntVar(&cfg.PID, "pid", 0, "server process id, sampled from /proc (0: none)")
	fs.StringVar(&cfg.Token, "token", "", "owner/admin bearer token, to time metadata events at WebSocket clients")
	fs.IntVar(&cfg.Events, "events", 0, "metadata events in the steady phase (default 5 with a token)")
	fs.Float64Var(&cfg.ExpectedRate, "expected-rate", 0, "audio bytes/s each HTTP listener should get (default from icy-br)")
	fs.BoolVar(&cfg.Detail, "detail", false, "one result per client in the JSON")
	fs.StringVar(&jsonFile, "json", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if _, err := load.RaiseFDLimit(); err != nil {
		return err
	}
	rep, err := load.Run(ctx, cfg)
	if err == nil {
		err = rep.Check()
	}
	if rep.Server != "" {
		fmt.Fprint(stdout, rep.Table())
		if jsonFile != "" {
			if werr := writeJSON(jsonFile, rep); werr != nil {
				return errors.Join(err, werr)
			}
		}
	}
	return err
}

func writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func prepare(ctx context.Context, args []string, stdout io.Writer) error {
	var server, user, password, name string
	fs := pflag.NewFlagSet("prepare", pflag.ContinueOnError)
	fs.StringVar(&server, "server", "http://127.0.0.1:8000", "server base URL; only 127.0.0.1 is allowed")
	fs.StringVar(&user, "user", "admin", "owner or admin user")
	fs.StringVar(&password, "password", "", "its password")
	fs.StringVar(&name, "name", "Load Test", "station name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := load.Prepare(ctx, server, user, password, name, fs.Args())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, st.Slug, st.Token)
	return nil
}

func compare(args []string, stdout io.Writer) error {
	var title string
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	fs.StringVar(&title, "title", "side by side", "heading")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("compare needs two JSON reports\n%s", usage)
	}
	var reps [2]load.Report
	for i, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read report: %w", err)
		}
		if err := json.Unmarshal(b, &reps[i]); err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
	}
	fmt.Fprint(stdout, load.Compare(title, reps[0], reps[1]))
	return nil
}

// check reads reports and says whether each was served within the limits.
func check(args []string, stdout io.Writer) error {
	var l load.Limits
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.DurationVar(&l.TTFBP99, "ttfb-p99", time.Second, "HTTP first byte p99 bound (0: none)")
	fs.DurationVar(&l.OfferP99, "offer-p99", 2*time.Second, "WebRTC offer to audio p99 bound (0: none)")
	fs.Float64Var(&l.LossPercent, "loss", 1, "WebRTC packet loss bound, percent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("check needs JSON reports\n%s", usage)
	}
	var over []string
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read report: %w", err)
		}
		var rep load.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
		for _, why := range rep.Within(l) {
			over = append(over, name+": "+why)
			fmt.Fprintf(stdout, "%s: %s\n", name, why)
		}
	}
	if len(over) > 0 {
		return fmt.Errorf("%w: %s", load.ErrOverLimits, over[0])
	}
	return nil
}

func wait(ctx context.Context, args []string) error {
	var server, path string
	var timeout time.Duration
	fs := pflag.NewFlagSet("wait", pflag.ContinueOnError)
	fs.StringVar(&server, "server", "http://127.0.0.1:8000", "server base URL; only 127.0.0.1 is allowed")
	fs.StringVar(&path, "path", "/healthz", "path that answers 200 once the server serves")
	fs.DurationVar(&timeout, "timeout", 20*time.Second, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return load.WaitHealthy(ctx, server, path)
}

// naive serves the reference pion server for WebRTC comparisons; it stops
// on a signal or after --for, whichever comes first.
func naive(ctx context.Context, args []string) error {
	var addr string
	var limit, frame time.Duration
	fs := pflag.NewFlagSet("naive", pflag.ContinueOnError)
	fs.DurationVar(&frame, "frame", 20*time.Millisecond, "Opus packet length: 20ms, 40ms or 60ms")
	fs.StringVar(&addr, "addr", "127.0.0.1:0", "listen address; only 127.0.0.1 is allowed")
	fs.DurationVar(&limit, "for", 10*time.Minute, "stop after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		return fmt.Errorf("naive: --addr must be 127.0.0.1:PORT, got %q", addr)
	}
	n, err := load.NewNaive(frame)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("naive: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return n.Serve(ctx, ln)
}
