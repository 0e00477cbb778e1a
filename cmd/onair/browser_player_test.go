package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair/configs"
)

// playButton finds the play control as the contract names it: a button
// whose text or aria-label is "Play".
const playButtonJS = `[...document.querySelectorAll('button')].find(b =>
  b.textContent.trim() === 'Play' || b.getAttribute('aria-label') === 'Play')`

// httpListener keeps /stream/SLUG open as a media player would, until the
// returned func is called.
func httpListener(t *testing.T, url string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		resp.Body.Close()
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 16<<10)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				return
			}
		}
	}()
	var once bool
	stop := func() {
		if once {
			return
		}
		once = true
		cancel()
		resp.Body.Close()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

func TestBrowserPlayer(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Tone FM", "tone440.mp3", "tone880.mp3")
	b := newBrowser(t)

	// An unknown station: the page says so (the server also answers 404).
	b.open(s.URL + "/stations/no-such-station")
	b.waitText(10*time.Second, "#name", "Station not found")
	if js[bool](b, `!document.querySelector('#station').hidden`) {
		t.Error("player controls shown for an unknown station")
	}

	b.open(s.URL + "/stations/" + slug)
	b.waitText(10*time.Second, "#name", "Tone FM")
	b.waitText(10*time.Second, "#np-title", "Tone 440")
	b.waitText(5*time.Second, "#np-artist", "Test Artist")
	b.waitJS(5*time.Second, "the Play button enabled", `(`+playButtonJS+`) && !(`+playButtonJS+`).disabled`)
	if got := js[string](b, `document.querySelector('#stream-url').value`); got != s.URL+"/stream/"+slug {
		t.Errorf("stream URL %q", got)
	}
	if got := js[string](b, `document.querySelector('#m3u').href`); got != s.URL+"/stream/"+slug+".m3u" {
		t.Errorf(".m3u link %q", got)
	}

	// Play: sound is really decoded from WebRTC.
	b.waitJS(5*time.Second, "a click on Play", `(`+playButtonJS+`).click() || true`)
	first := b.waitAudio(20 * time.Second)
	t.Logf("playing: %+v", first)
	if sdp := js[string](b, `onairPlayer.pc.remoteDescription.sdp`); !strings.Contains(sdp, "a=ice-lite") {
		t.Error("Chromium plays, but not over the lite transport (the default)")
	}
	b.waitText(10*time.Second, "#play", "Stop")
	b.waitText(10*time.Second, "#listeners", "1")

	// An ICE restart (what the page does by itself when ICE fails or
	// stays disconnected) renegotiates on the same PeerConnection: new
	// credentials on both sides, and the sound goes on.
	ufrags := `[onairPlayer.pc.localDescription.sdp, onairPlayer.pc.remoteDescription.sdp].map(s => /a=ice-ufrag:(\S+)/.exec(s)[1]).join(' ')`
	before := js[string](b, ufrags)
	js[bool](b, `(onairPlayer.pc.testTag = 'restarted', onairPlayer.pc.restartIce(), true)`)
	b.waitJS(10*time.Second, "new ICE credentials on both sides", `(() => {
		const [l, r] = (`+ufrags+`).split(' '), [l0, r0] = '`+before+`'.split(' ');
		return l !== l0 && r !== r0 && onairPlayer.pc.signalingState === 'stable';
	})()`)
	restarted := b.waitAudio(5 * time.Second)
	b.waitJS(10*time.Second, "audio flowing after the ICE restart",
		`(async () => { const s = await `+inboundAudioJS+`; return s && s.tag === 'restarted' && s.packets > `+itoa(restarted.Packets)+` && onairPlayer.pc.connectionState === 'connected'; })()`)

	// Now playing follows a skip.
	s.must(200, "POST", "/api/stations/"+slug+"/skip", tok, nil, nil)
	b.waitText(10*time.Second, "#np-title", "Tone 880")

	// A second listener, a media player over HTTP, shows in the count.
	stop := httpListener(t, s.URL+"/stream/"+slug)
	b.waitText(10*time.Second, "#listeners", "2")
	stop()
	b.waitText(10*time.Second, "#listeners", "1")

	// The WebSocket drops (closed under the page's feet, as a network
	// failure would): the page reconnects, re-joins and renegotiates the
	// audio without any click.
	connects := js[int](b, `onairPlayer.connects`)
	js[bool](b, `(onairPlayer.pc.testTag = 'before-drop', onairPlayer.ws.close(4000, 'test drop'), true)`)
	b.waitJS(10*time.Second, "a new WebSocket", `onairPlayer.connects > `+itoa(int64(connects)))
	b.waitJS(20*time.Second, "a new PeerConnection playing",
		`onairPlayer.pc && onairPlayer.pc.testTag !== 'before-drop' && onairPlayer.state === 'playing'`)
	after := b.waitAudio(20 * time.Second)
	if after.Tag == "before-drop" {
		t.Fatalf("stats of the old PeerConnection: %+v", after)
	}
	b.waitJS(10*time.Second, "packets and energy still growing",
		`(async () => { const s = await `+inboundAudioJS+`; return s && s.packets > `+itoa(after.Packets)+` && s.energy > `+ftoa(after.Energy)+`; })()`)
	if js[bool](b, `onairPlayer.audio.paused`) {
		t.Error("the audio element paused after the reconnect")
	}
	b.waitText(5*time.Second, "#play", "Stop")
	// The live count still updates over the new socket.
	stop = httpListener(t, s.URL+"/stream/"+slug)
	b.waitText(10*time.Second, "#listeners", "2")
	stop()
	b.waitText(10*time.Second, "#listeners", "1")

	// Stop frees the server's side at once: the count drops to 0.
	b.click("#play")
	b.waitText(10*time.Second, "#listeners", "0")
	b.waitText(5*time.Second, "#play", "Play")
	var st stationJSON
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if st.Listeners.WebRTC != 0 {
		t.Errorf("after Stop the server counts %d WebRTC listeners", st.Listeners.WebRTC)
	}
	b.checkClean()
}

// TestBrowserPlayerOverPionPeers: webrtc.transport = pion, the full
// PeerConnection per listener kept behind the setting, still plays in
// Chromium.
func TestBrowserPlayerOverPionPeers(t *testing.T) {
	s := startServerWith(t, "", func(c *configs.Config) { c.WebRTC.Transport = "pion" })
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Tone FM", "tone440.mp3", "tone880.mp3")
	b := newBrowser(t)
	b.open(s.URL + "/stations/" + slug)
	b.waitText(10*time.Second, "#np-title", "Tone 440")
	b.waitJS(5*time.Second, "the Play button enabled", `(`+playButtonJS+`) && !(`+playButtonJS+`).disabled`)
	b.waitJS(5*time.Second, "a click on Play", `(`+playButtonJS+`).click() || true`)
	b.waitAudio(20 * time.Second)
	if sdp := js[string](b, `onairPlayer.pc.remoteDescription.sdp`); strings.Contains(sdp, "a=ice-lite") {
		t.Error("the pion transport answered as ICE-lite")
	}
	b.waitText(10*time.Second, "#listeners", "1")
}
