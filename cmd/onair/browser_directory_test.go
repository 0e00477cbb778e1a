package main

import (
	"testing"
	"time"
)

// apiFetchesJS counts the page's requests to the REST API so far.
const apiFetchesJS = `performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname.startsWith('/api/')).length`

func TestBrowserDirectory(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	live, _ := s.liveStation(tok, "Alpha FM", "tone440.mp3", "tone880.mp3")
	var later struct{ Slug string }
	s.must(201, "POST", "/api/stations", tok, map[string]string{"name": "Beta Radio"}, &later)
	s.upload(tok, later.Slug, fixture(t, "tone1320.mp3"))
	b := newBrowser(t)

	b.open(s.URL + "/")
	card := func(slug string) string { return `.card[data-slug="` + slug + `"] ` }
	b.waitText(10*time.Second, card(live)+".card-np", "Now playing: Test Artist – Tone 440")
	b.waitText(5*time.Second, card(live)+".badge", "Live")
	b.waitText(5*time.Second, card(later.Slug)+".badge", "Off air")
	fetches := js[int](b, apiFetchesJS)

	// Everything below arrives over the WebSocket, without a request.
	s.must(200, "POST", "/api/stations/"+live+"/skip", tok, nil, nil)
	b.waitText(10*time.Second, card(live)+".card-np", "Now playing: Test Artist – Tone 880")
	stop := httpListener(t, s.URL+"/stream/"+live)
	b.waitText(10*time.Second, card(live)+".card-listeners", "1 listener")
	stop()
	b.waitText(10*time.Second, card(live)+".card-listeners", "0 listeners")

	s.must(200, "POST", "/api/stations/"+later.Slug+"/start", tok, nil, nil)
	b.waitText(10*time.Second, card(later.Slug)+".badge", "Live")
	b.waitText(10*time.Second, card(later.Slug)+".card-np", "Now playing: Other Artist – Tone 1320")
	s.must(200, "POST", "/api/stations/"+live+"/stop", tok, nil, nil)
	b.waitText(10*time.Second, card(live)+".badge", "Off air")
	b.waitText(5*time.Second, card(live)+".card-np", "Not on air right now")
	if got := js[int](b, apiFetchesJS); got != fetches {
		t.Errorf("the directory made %d API requests after loading, want none (no polling)", got-fetches)
	}

	// A station created after the page loaded shows up when it starts.
	newSlug, _ := s.liveStation(tok, "Gamma Live", "tone880.mp3")
	b.waitText(10*time.Second, card(newSlug)+".card-name", "Gamma Live")
	b.waitText(10*time.Second, card(newSlug)+".card-np", "Now playing: Test Artist – Tone 880")

	// A click opens the player.
	b.click(card(later.Slug) + "a")
	b.waitJS(10*time.Second, "the player page", `location.pathname === '/stations/`+later.Slug+`'`)
	b.waitText(10*time.Second, "#name", "Beta Radio")
	b.checkClean()
}
