package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onairfm/onair/configs"
)

// noUDP makes Chromium's WebRTC use no UDP of its own (the policy an
// office network's proxy-only rules force): what is left is ICE over TCP,
// or nothing. The switch sets the preference webrtc.ip_handling_policy,
// the one the WebRtcIPHandlingPolicy enterprise policy sets.
var noUDP = chromedp.Flag("webrtc-ip-handling-policy", "disable_non_proxied_udp")

// selectedProtocolJS is the protocol ("udp", "tcp") of the local candidate
// of the page's selected ICE pair, or "".
const selectedProtocolJS = `(async () => {
  const pc = onairPlayer.pc;
  if (!pc) return '';
  const stats = await pc.getStats();
  for (const r of stats.values()) {
    if (r.type === 'transport' && r.selectedCandidatePairId) {
      const pair = stats.get(r.selectedCandidatePairId);
      const local = pair && stats.get(pair.localCandidateId);
      return local ? local.protocol : '';
    }
  }
  return '';
})()`

// httpPlayingJS: the element plays the HTTP stream and its time moves on.
const httpPlayingJS = `(async () => {
  const a = onairPlayer.audio;
  if (onairPlayer.path !== 'http' || a.paused || !a.src) return false;
  const t0 = a.currentTime;
  await new Promise((r) => setTimeout(r, 500));
  return a.currentTime > t0 && a.currentTime > 0.5;
})()`

func TestBrowserPlayerWithoutUDP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tcpPort int // webrtc.tcp_port
	}{
		{"ice-tcp offered", 0},
		{"ice-tcp off", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServerWith(t, "", func(c *configs.Config) { c.WebRTC.TCPPort = tc.tcpPort })
			tok := s.owner("deejay")
			slug, _ := s.liveStation(tok, "Tone FM", "tone440.mp3", "tone880.mp3")
			b := newBrowser(t, noUDP)
			b.open(s.URL + "/stations/" + slug)
			b.waitText(10*time.Second, "#np-title", "Tone 440")
			b.waitJS(5*time.Second, "the Play button enabled", `(`+playButtonJS+`) && !(`+playButtonJS+`).disabled`)
			b.waitJS(5*time.Second, "a click on Play", `(`+playButtonJS+`).click() || true`)

			// Sound, by whichever path: the contract allows 5 s; the test
			// waits longer on a busy machine and logs the time instead.
			waitTrue(b, 20*time.Second, "sound by WebRTC or by the HTTP stream",
				`(async () => onairPlayer.path === 'http' ? await `+httpPlayingJS+` : !!(onairPlayer.phases && onairPlayer.phases.audible !== undefined))()`)
			path := js[string](b, `onairPlayer.path`)
			phases := js[map[string]any](b, `onairPlayer.phases`)
			t.Logf("path %s, phases %v", path, phases)
			want := map[string]string{"webrtc": "Playing · WebRTC", "http": "Playing · HTTP stream"}[path]
			if want == "" {
				t.Fatalf("path %q", path)
			}
			b.waitText(10*time.Second, "#status", want)
			switch path {
			case "webrtc":
				if proto := js[string](b, selectedProtocolJS); proto != "tcp" {
					t.Errorf("WebRTC plays without UDP over %q", proto)
				}
				if tc.tcpPort < 0 {
					t.Error("WebRTC plays with UDP blocked and ICE-TCP off")
				}
				b.waitAudio(10 * time.Second)
			case "http":
				if tc.tcpPort >= 0 {
					t.Log("ICE-TCP did not connect in time: the page fell back to the HTTP stream")
				}
				var st stationJSON
				s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
				if st.Listeners.HTTP != 1 || st.Listeners.WebRTC != 0 {
					t.Errorf("listeners %+v, want 1 over HTTP", st.Listeners)
				}
			}

			// Now playing goes on over the socket, whichever path plays.
			s.must(200, "POST", "/api/stations/"+slug+"/skip", tok, nil, nil)
			b.waitText(10*time.Second, "#np-title", "Tone 880")
			if path == "http" {
				waitTrue(b, 10*time.Second, "the HTTP stream still playing after the title changed", httpPlayingJS)
			}

			// Stop frees the server's side, whichever path played.
			b.click("#play")
			b.waitText(5*time.Second, "#play", "Play")
			b.waitJS(10*time.Second, "no listener left", `(async () => {
				const r = await fetch('/api/stations/`+slug+`');
				return (await r.json()).listeners.total === 0;
			})()`)
			b.checkClean()
		})
	}
}

// waitTrue polls an expression that may be a promise (waitJS cannot await
// one) until it is true.
func waitTrue(b *browser, within time.Duration, what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for !js[bool](b, expr) {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %v waiting for %s\nconsole:\n%s", within, what, b.consoleLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
