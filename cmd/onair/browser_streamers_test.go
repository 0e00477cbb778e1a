package main

import (
	"net/url"
	"testing"
	"time"
)

// TestBrowserStreamersAndLiveBadge adds a streamer in the dashboard, puts
// its source client on air, and watches the player say who is live.
func TestBrowserStreamersAndLiveBadge(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("alice")
	slug, _ := s.liveStation(tok, "Badge FM", "tone440.mp3")
	b := newBrowser(t)

	b.dashboardLogin(s.URL, "alice", "owner-password")
	b.waitText(10*time.Second, "#st-name", "Badge FM")
	b.waitJS(10*time.Second, "the mount in the streamers panel", `document.querySelector('#src-mount').textContent === '/stream/`+slug+`'`)
	b.typeInto(`#streamer-form [name=username]`, "deejay")
	b.typeInto(`#streamer-form [name=password]`, "password1")
	b.typeInto(`#streamer-form [name=display_name]`, `DJ <b>Night</b>`)
	b.click(`#streamer-form button[type=submit]`)
	b.waitJS(10*time.Second, "the streamer in the list", `document.querySelector('#streamer-list').textContent.includes('deejay')`)
	if n := js[float64](b, `document.querySelectorAll('#streamer-list b').length`); n != 0 {
		t.Fatal("the display name became markup")
	}

	b.open(s.URL + "/stations/" + slug)
	b.waitText(10*time.Second, "#name", "Badge FM")
	if !js[bool](b, `document.querySelector('#live-source').hidden`) {
		t.Fatal("LIVE shown before any source")
	}
	u, _ := url.Parse(s.URL)
	src := startSourceClient(t, u.Host, "/stream/"+slug, "deejay", "password1", fixture(t, "tone1000-vbr.mp3").data)
	b.waitJS(20*time.Second, "LIVE with the streamer's name",
		`!document.querySelector('#live-source').hidden && document.querySelector('#live-source').textContent === 'LIVE: DJ <b>Night</b>'`)
	src.close()
	b.waitJS(20*time.Second, "LIVE gone with the source", `document.querySelector('#live-source').hidden`)
	b.checkClean()
}
