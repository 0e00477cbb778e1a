package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// childEnv, when set, makes the test binary run the server instead of the
// tests, with the arguments it holds (separated by \x1f): the crash tests
// kill that child with SIGKILL, which they could not do to themselves.
const childEnv = "ONAIR_TEST_CHILD_ARGS"

// startChild runs the server as a child process (this test binary, see
// childEnv) on a free loopback port, with env added to the test's own, and
// returns it once its log line msg="<serving>" names the address it
// listens on. The caller stops it: some tests kill it on purpose.
func startChild(t *testing.T, serving string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"=serve\x1f--http.addr\x1f127.0.0.1:0"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() { // ends with the child's stdout
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`msg="` + regexp.QuoteMeta(serving) + `" addr=(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case addr := <-addrc:
		return cmd, addr
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child (%s) did not start", serving)
		return nil, ""
	}
}

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
