// Command onair is the onair radio server: HTTP, WebSocket and WebRTC on one
// port, state in one directory. main only wires the packages together.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "onair:", err)
		os.Exit(1)
	}
}

// run dispatches the subcommands: serve (the default), version, user add.
func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, environ []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCmd(ctx, args, stdout, environ)
	case "version":
		fmt.Fprintf(stdout, "onair %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "user":
		return userCmd(ctx, args, stdin, stdout, environ)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `usage:
  onair [serve] [--config FILE] [--http.addr ADDR] [--data_dir DIR] ...   run the server (default)
  onair user add NAME --role owner|admin|listener                          add a user; password on stdin
  onair version                                                            print the version
`
