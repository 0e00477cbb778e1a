package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// childEnv, when set, makes the test binary run the server instead of the
// tests, with the arguments it holds (separated by \x1f): the crash tests
// kill that child with SIGKILL, which they could not do to themselves.
const childEnv = "ONAIR_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(childEnv); ok {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Environ())
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "onair:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// Every goroutine the server starts must be gone once it has shut
	// down. The HTTP client's idle connections and Chromium's DevTools
	// reader belong to the tests, not to the server.
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("github.com/chromedp/chromedp.(*Browser).run"),
		goleak.IgnoreAnyFunction("github.com/chromedp/chromedp.NewBrowser"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}
