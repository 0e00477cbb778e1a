package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/internal/testutil"
)

// streamListener is a media player on a station's stream, reading until
// stopped.
type streamListener struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func listenStream(t *testing.T, url, userAgent string) *streamListener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	l := &streamListener{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		_, _ = io.Copy(io.Discard, resp.Body) // until stopped
		_ = resp.Body.Close()
	}()
	t.Cleanup(l.stop)
	return l
}

func (l *streamListener) stop() {
	l.cancel()
	<-l.done
}

// chartSeries reads the last value of each of the station chart's series:
// listeners, http, webrtc.
const chartLastJS = `(() => {
  const c = window.onairStats && onairStats.station && onairStats.station.chart;
  if (!c) return [-1, -1, -1];
  const d = c.data, n = d[0].length;
  return n ? [d[1][n-1], d[2][n-1], d[3][n-1]] : [0, 0, 0];
})()`

func TestBrowserStats(t *testing.T) {
	s := startServerWith(t, "", func(c *configs.Config) { c.Stats.SampleS = 1 })
	tok := s.owner("carol")
	slug, _ := s.liveStation(tok, "Stats FM", "tone440.mp3", "tone880.mp3")
	b := newBrowser(t)
	b.dashboardLogin(s.URL, "carol", "owner-password")
	b.waitText(10*time.Second, "#st-name", "Stats FM")

	// The chart is a labelled image; its numbers are also text.
	b.waitJS(10*time.Second, "the chart", `!!document.querySelector('#station-stats canvas[role="img"]')`)
	label := js[string](b, `document.querySelector('#station-stats canvas').getAttribute('aria-label')`)
	if !strings.Contains(label, "Listeners") {
		t.Errorf("chart aria-label %q does not name listeners", label)
	}

	// Listeners come...
	a := listenStream(t, s.URL+"/stream/"+slug, "VLC/3.0.20 LibVLC/3.0.20")
	listenStream(t, s.URL+"/stream/"+slug, "Lavf/60.16.100")
	b.waitText(10*time.Second, "#st-stats-now", "2")
	b.waitJS(10*time.Second, "the chart at 2 listeners, both http", chartLastJS+`.join() === '2,2,0'`)
	// ...the samples record them...
	b.waitJS(20*time.Second, "a recorded sample with 2 listeners",
		`onairStats.station.report && onairStats.station.report.points.some((p) => p.listeners === 2)`)
	// ...and one goes.
	a.stop()
	b.waitText(10*time.Second, "#st-stats-now", "1")
	b.waitJS(10*time.Second, "the chart at 1 listener", chartLastJS+`.join() === '1,1,0'`)
	if peak := js[string](b, `document.querySelector('#st-stats-peak').firstChild.textContent`); peak != "2" {
		t.Errorf("peak reads %q, want 2", peak)
	}
	// Its session is counted once written and the figures refresh.
	b.waitJS(30*time.Second, "one session counted", `document.querySelector('#st-stats-sessions').textContent === '1'`)
	if avg := b.text("#st-stats-avg"); avg == "—" || avg == "" {
		t.Errorf("average session reads %q", avg)
	}
	label = js[string](b, `document.querySelector('#station-stats canvas').getAttribute('aria-label')`)
	if !strings.Contains(label, "Listeners of Stats FM") || !strings.Contains(label, "peak 2") {
		t.Errorf("chart aria-label %q does not sum the chart up", label)
	}
	if n := js[int](b, `document.querySelectorAll('#station-stats tbody tr').length`); n < 2 {
		t.Errorf("the table has %d rows, want the points", n)
	}

	// Ranges are buttons, pressed one at a time; 30 d is hourly.
	b.click(`#station-stats button[data-range="30d"]`)
	b.waitJS(10*time.Second, "the 30-day range", `onairStats.station.report && onairStats.station.report.step_s === 3600`)
	if got := js[string](b, `[...document.querySelectorAll('#station-stats button[aria-pressed="true"]')].map((b) => b.dataset.range).join()`); got != "30d" {
		t.Errorf("pressed range buttons %q, want 30d", got)
	}
	b.click(`#station-stats button[data-range="1h"]`)
	b.waitJS(10*time.Second, "the 1-hour range", `onairStats.station.report && onairStats.station.report.step_s === 1`)

	// Song impact: a track that started and ended while samples were taken
	// shows its listeners and their change in the Played table.
	s.must(200, "POST", "/api/stations/"+slug+"/skip", tok, nil, nil)
	b.do(3 * time.Second) // a few samples of the new track
	s.must(200, "POST", "/api/stations/"+slug+"/skip", tok, nil, nil)
	b.waitJS(20*time.Second, "a played track with its listener change",
		`[...document.querySelectorAll('#played tbody tr')].slice(1).some((r) => /^\d+$/.test(r.cells[4].textContent) && /^(0|[+−]\d+)$/.test(r.cells[5].textContent))`)

	dir := os.Getenv("ONAIR_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	b.do(5 * time.Second) // settle
	b.click(`#station-stats details summary`)
	b.screenshot(dir, "stats-1280", 1280, 900, false)
	// On a phone the chart is redrawn to fit (a ResizeObserver) before
	// the picture is taken.
	b.do(10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.waitJS(10*time.Second, "the page and chart fitting a phone",
		`document.documentElement.scrollWidth <= 390 && document.querySelector('#station-stats canvas').getBoundingClientRect().right <= 390`)
	b.screenshot(dir, "stats-390", 390, 844, true)
	b.checkClean()

	// An admin sees the whole server too.
	b2 := newBrowser(t)
	b2.dashboardLogin(s.URL, "admin", adminPassword)
	b2.waitJS(10*time.Second, "the server's chart", `!document.querySelector('#server-stats-panel').hidden &&
		!!document.querySelector('#server-stats canvas[role="img"]')`)
	b2.waitJS(20*time.Second, "the server's figures", `onairStats.server.report && onairStats.server.report.points.some((p) => p.listeners >= 1)`)
	b2.checkClean()
}

// A chat message or like sent while the page's socket reconnects waits,
// shown as sending, and goes once the socket is back; with no server it
// gives up with a visible message. The chat and likes are counted in the
// station's statistics.
func TestBrowserOfflineQueue(t *testing.T) {
	s := startServerWith(t, "", func(c *configs.Config) { c.Stats.SampleS = 1 })
	tok := s.owner("dave")
	slug, _ := s.liveStation(tok, "Queue FM", "tone440.mp3")
	b := newBrowser(t)
	b.open(s.URL + "/stations/" + slug)
	b.typeInto(`#login-form [name=username]`, "dave")
	b.typeInto(`#login-form [name=password]`, "owner-password")
	b.click(`#login`)
	b.waitJS(10*time.Second, "the chat form", `!document.querySelector('#chat-form').hidden`)
	b.waitJS(10*time.Second, "the socket", `onairPlayer.signal.open`)

	// Drop the socket and send at once: the message waits, then goes.
	got := js[string](b, `(() => {
	  onairPlayer.ws.close();
	  document.querySelector('#chat-text').value = 'sent while away';
	  document.querySelector('#chat-form').requestSubmit();
	  document.querySelector('#like').click();
	  const p = document.querySelector('#chat li.pending');
	  return p ? p.textContent + ' | ' + document.querySelector('#like-hint').textContent : 'no pending item';
	})()`)
	if !strings.Contains(got, "sent while away") || !strings.Contains(got, "sending…") || !strings.Contains(got, "Like sending") {
		t.Fatalf("while reconnecting the page shows %q, want the message as sending… and the like as sending", got)
	}
	b.waitText(15*time.Second, "#chat li:not(.pending) .chat-text", "sent while away")
	b.waitText(10*time.Second, "#likes", "1")
	b.waitJS(5*time.Second, "no pending item", `!document.querySelector('#chat li.pending') && document.querySelector('#like-hint').hidden`)

	// The chat message and the like are in the station's statistics.
	testutil.Eventually(t, 15*time.Second, "chat and likes in the statistics", func() bool {
		var rep struct{ Chat, Likes int }
		s.must(200, "GET", "/api/stations/"+slug+"/stats", tok, nil, &rep)
		return rep.Chat == 1 && rep.Likes == 1
	})

	// With the server gone it gives up, visibly (the wait is shortened
	// from 30 s for the test).
	s.stop()
	b.waitJS(10*time.Second, "the socket to drop", `!onairPlayer.signal.open`)
	js[bool](b, `(() => {
	  onairPlayer.signal.queueTimeout = 1500;
	  document.querySelector('#chat-text').value = 'into the void';
	  document.querySelector('#chat-form').requestSubmit();
	  return true;
	})()`)
	b.waitJS(10*time.Second, "the give-up message", `document.querySelector('#chat-error').textContent.startsWith('Not sent: the connection did not come back within 2 s')`)
	if v := js[string](b, `document.querySelector('#chat-text').value`); v != "into the void" {
		t.Errorf("after giving up the input holds %q, want the message back", v)
	}
	if n := js[int](b, `document.querySelectorAll('#chat li.pending').length`); n != 0 {
		t.Errorf("%d pending items left after giving up", n)
	}
}
