package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onairfm/onair/internal/client"
	"github.com/onairfm/onair/internal/testutil"
)

// liveSource reads the station's source and now playing from the REST view.
func (s *server) liveSource(slug string) (kind, title string) {
	s.t.Helper()
	var st struct {
		Source     *struct{ Kind string }
		NowPlaying *struct {
			Title  string
			Source string
		} `json:"now_playing"`
	}
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if st.Source != nil {
		kind = st.Source.Kind
	}
	if st.NowPlaying != nil {
		title = st.NowPlaying.Title
	}
	return kind, title
}

// TestBrowserGoLive presses "Go live" in the dashboard with Chromium's fake
// microphone (a beep) and fake permission prompt: the station's air goes
// to the browser, the level meter moves, Mute mutes, End gives the air
// back to the playlist.
func TestBrowserGoLive(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("alice")
	slug, _ := s.liveStation(tok, "Alice Live", "tone440.mp3")
	b := newBrowser(t,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true))

	b.dashboardLogin(s.URL, "alice", "owner-password")
	b.waitText(10*time.Second, "#st-name", "Alice Live")
	b.waitJS(10*time.Second, "Go live enabled for a live station", `!document.querySelector('#golive').disabled`)

	// While another source has the air, the button says who and waits.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := client.PublishWHIP(ctx, s.URL+"/api/stations/"+slug+"/whip", bearer(s.admin), 1)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	sent := make(chan error, 1)
	go func() { sent <- p.Stream(sctx, func(int, []float32) {}) }() // silence
	b.waitJS(10*time.Second, "Go live disabled while the admin is on air",
		`document.querySelector('#golive').disabled && document.querySelector('#golive').title === 'admin is on air (whip).'`)
	if status, err := p.Delete(ctx); err != nil || status != 200 {
		t.Fatalf("DELETE: %d %v", status, err)
	}
	stop()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	p.Close()
	b.waitJS(10*time.Second, "Go live enabled again", `!document.querySelector('#golive').disabled`)

	b.click("#golive")
	b.waitJS(20*time.Second, "the page to be on air", `document.querySelector('#golive-status').textContent.includes('on air')`)
	testutil.Eventually(t, 10*time.Second, "the station's title to be the streamer", func() bool {
		_, title := s.liveSource(slug)
		return title == "alice"
	})
	if kind, _ := s.liveSource(slug); kind != "whip" {
		t.Fatalf("station JSON source %q, want whip", kind)
	}
	// The fake microphone beeps: the meter moves.
	b.waitJS(10*time.Second, "the level meter to move", `document.querySelector('#golive-level').value > 0.01`)
	if got := b.text("#golive-level-text"); !strings.HasSuffix(got, " dB") {
		t.Fatalf("level text %q", got)
	}
	if dir := os.Getenv("ONAIR_SCREENSHOTS"); dir != "" {
		b.screenshot(dir, "dashboard-golive", 1280, 1100, false)
	}

	b.click("#golive-mute")
	b.waitJS(5*time.Second, "Mute pressed", `document.querySelector('#golive-mute').getAttribute('aria-pressed') === 'true'`)
	b.waitText(5*time.Second, "#golive-level-text", "muted")
	// Muted, the browser keeps sending (silent) packets: the source does
	// not stall and keep the air from the playlist.
	const sentJS = `(async () => {
	  const pc = window.onairGoLive && onairGoLive.pc;
	  if (!pc) return -1;
	  for (const r of (await pc.getStats()).values()) {
	    if (r.type === 'outbound-rtp' && r.kind === 'audio') return r.packetsSent || 0;
	  }
	  return 0;
	})()`
	before := js[int](b, sentJS)
	testutil.Eventually(t, 10*time.Second, "100 packets sent while muted", func() bool { return js[int](b, sentJS) > before+100 })
	if kind, _ := s.liveSource(slug); kind != "whip" {
		t.Fatalf("muted: source %q, want whip still", kind)
	}
	b.click("#golive-mute")
	b.waitJS(5*time.Second, "Mute released", `document.querySelector('#golive-mute').getAttribute('aria-pressed') === 'false'`)

	b.click("#golive-end")
	b.waitJS(10*time.Second, "the page to have ended", `document.querySelector('#golive-status').textContent.startsWith('Ended')`)
	testutil.Eventually(t, 10*time.Second, "the playlist back on air", func() bool {
		kind, title := s.liveSource(slug)
		return kind == "" && title == "Tone 440"
	})
	if !js[bool](b, `document.querySelector('#golive-end').disabled && !document.querySelector('#golive').disabled`) {
		t.Fatal("after End, End should be disabled and Go live enabled")
	}
	b.checkClean()
}
