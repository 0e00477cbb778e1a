package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// chromiumPath is the only browser the tests start: Debian's Chromium.
const chromiumPath = "/usr/lib/chromium/chromium"

// browser is one headless Chromium with one tab, closed when the test ends.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab; chromedp actions run on it

	mu         sync.Mutex
	dialogs    []string // messages of JavaScript dialogs (alert, confirm...)
	exceptions []string // uncaught exceptions of the pages
	console    []string // console errors and warnings, for failure messages
}

// newBrowser starts Chromium with exactly the flags the test network rules
// allow, and a fresh profile. Without Chromium the test skips, except in
// CI, which installs it. extra flags are added to those, never instead of
// them (e.g. the fake microphone of the Go live test).
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; .ci/run must install chromium", chromiumPath)
		}
		t.Skipf("%s not installed", chromiumPath)
	}
	profile := t.TempDir()
	// Built from scratch, not from chromedp.DefaultExecAllocatorOptions,
	// which adds flags of its own. remote.WebSocket makes chromedp add
	// --remote-debugging-port=0 (on 127.0.0.1) and about:blank, nothing else.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(profile),
		remote.WebSocket,
	}
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx}
	// Registered after t.TempDir, so it runs before the profile is removed:
	// the browser has exited by then.
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing the browser: %v", err)
		}
		cancelTab()
		cancelAlloc()
	})

	start, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stop := context.AfterFunc(start, cancelTab) // a browser that hangs at start
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	stop()

	dialogs := make(chan struct{}, 16)
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.dialogs = append(b.dialogs, fmt.Sprintf("%s(%q)", ev.Type, ev.Message))
			select {
			case dialogs <- struct{}{}:
			default:
			}
		case *cdpruntime.EventExceptionThrown:
			b.exceptions = append(b.exceptions, exceptionText(ev.ExceptionDetails))
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == "error" || ev.Type == "warning" {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				b.console = append(b.console, string(ev.Type)+": "+strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// A dialog blocks the page: dismiss it so the test goes on to fail
	// with a message instead of hanging.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	return b
}

func exceptionText(d *cdpruntime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d)", s, d.URL, d.LineNumber)
}

// checkClean fails the test if a page opened a dialog or threw.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		b.t.Errorf("a page opened JavaScript dialogs: %v", b.dialogs)
	}
	if len(b.exceptions) > 0 {
		b.t.Errorf("uncaught exceptions in the pages: %v", b.exceptions)
	}
}

func (b *browser) consoleLog() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.console, "\n")
}

// do runs actions with a deadline.
func (b *browser) do(within time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, within)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\nconsole:\n%s", err, b.consoleLog())
	}
}

// open loads a page of the test server and waits for its module to run.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do(15*time.Second, chromedp.Navigate(url))
}

// click clicks the element a CSS selector finds.
func (b *browser) click(css string) {
	b.t.Helper()
	b.do(10*time.Second, chromedp.Click(chromedp.CSS(css)))
}

// typeInto replaces the value of a field by typing.
func (b *browser) typeInto(css, text string) {
	b.t.Helper()
	// Not chromedp.SetValue(sel, ""): it cannot set an empty value.
	js[bool](b, fmt.Sprintf(`(document.querySelector(%q).value = "", true)`, css))
	b.do(10*time.Second, chromedp.SendKeys(chromedp.CSS(css), text))
}

// js evaluates an expression (awaiting a promise) and decodes its value.
func js[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it is true.
func (b *browser) waitJS(within time.Duration, what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")", chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %v waiting for %s (%s; last error %v)\nconsole:\n%s", within, what, cond, err, b.consoleLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is the textContent of the element a CSS selector finds.
func (b *browser) text(css string) string {
	b.t.Helper()
	return js[string](b, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, css))
}

// waitText waits until the element's text is want.
func (b *browser) waitText(within time.Duration, css, want string) {
	b.t.Helper()
	b.waitJS(within, fmt.Sprintf("%s to read %q (it reads %q)", css, want, b.text(css)),
		fmt.Sprintf(`(document.querySelector(%q) || {}).textContent === %q`, css, want))
}

// screenshot saves the whole page at a viewport size as dir/name.png.
func (b *browser) screenshot(dir, name string, width, height int64, mobile bool) {
	b.t.Helper()
	vp := chromedp.EmulateViewport(width, height)
	if mobile {
		vp = chromedp.EmulateViewport(width, height, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	}
	b.do(10*time.Second, vp)
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// inboundAudio is the page's inbound-rtp audio report of its current
// RTCPeerConnection, or nil.
const inboundAudioJS = `(async () => {
  const pc = window.onairPlayer && onairPlayer.pc;
  if (!pc) return null;
  const stats = await pc.getStats();
  for (const r of stats.values()) {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      return {packets: r.packetsReceived || 0, energy: r.totalAudioEnergy || 0, tag: pc.testTag || ''};
    }
  }
  return null;
})()`

type audioStats struct {
	Packets int64   `json:"packets"`
	Energy  float64 `json:"energy"`
	Tag     string  `json:"tag"`
}

func (b *browser) audio() *audioStats {
	b.t.Helper()
	return js[*audioStats](b, inboundAudioJS)
}

// waitAudio waits until the current PeerConnection decodes sound.
func (b *browser) waitAudio(within time.Duration) audioStats {
	b.t.Helper()
	var last *audioStats
	deadline := time.Now().Add(within)
	for {
		last = b.audio()
		if last != nil && last.Packets > 0 && last.Energy > 0 {
			return *last
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no decoded audio within %v: stats %+v, player state %q\nconsole:\n%s",
				within, last, js[string](b, `onairPlayer.state`), b.consoleLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
