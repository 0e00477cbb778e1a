package main

import (
	"fmt"
	"testing"
	"time"
)

// Markup in everything a user or a file controls. Each would open a dialog
// or add an element if a page rendered it as HTML.
const (
	xssTitle   = `<img src=x onerror=alert(1)>` // testdata/xss.mp3's ID3 title
	xssArtist  = `<script>alert(2)</script>`    // and artist
	xssStation = `<img src=x onerror=alert(3)><b>Bold</b> FM`
	xssGenre   = `<svg onload=alert(4)>`
	xssChat    = `<img src=x onerror=alert(5)><i>hi</i>`
)

// noMarkup fails if any of the injected markup became elements.
func (b *browser) noMarkup(where string) {
	b.t.Helper()
	n := js[int](b, `document.querySelectorAll('img[src="x"], main script, main b, main i, main svg').length`)
	if n != 0 {
		b.t.Errorf("%s: %d injected elements in the page", where, n)
	}
}

func TestBrowserXSS(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("mallory")
	var st struct{ Slug string }
	s.must(201, "POST", "/api/stations", tok, map[string]string{"name": xssStation, "genre": xssGenre, "description": xssArtist}, &st)
	status, res := s.upload(tok, st.Slug, fixture(t, "xss.mp3"))
	if status != 201 || len(res.Tracks) != 1 || res.Tracks[0].Title != xssTitle {
		t.Fatalf("upload: %d %+v", status, res)
	}
	s.must(200, "POST", "/api/stations/"+st.Slug+"/start", tok, nil, nil)
	b := newBrowser(t)

	// Directory.
	b.open(s.URL + "/")
	b.waitText(10*time.Second, ".card-name", xssStation)
	b.waitText(10*time.Second, ".card-np", "Now playing: "+xssArtist+" – "+xssTitle)
	b.waitText(5*time.Second, ".card-genre", xssGenre)
	b.noMarkup("directory")

	// Player, with a chat message in markup sent through its own form.
	b.open(s.URL + "/stations/" + st.Slug)
	b.waitText(10*time.Second, "#name", xssStation)
	b.waitText(10*time.Second, "#np-title", xssTitle)
	b.waitText(5*time.Second, "#np-artist", xssArtist)
	b.waitText(5*time.Second, "#about", xssGenre+" · "+xssArtist)
	b.typeInto(`#login-form [name=username]`, "mallory")
	b.typeInto(`#login-form [name=password]`, "owner-password")
	b.click(`#login`)
	b.waitJS(10*time.Second, "the chat form", `!document.querySelector('#chat-form').hidden`)
	b.waitText(5*time.Second, "#me-name", "mallory")
	b.typeInto("#chat-text", xssChat)
	b.click(`#chat-form button[type=submit]`)
	b.waitText(10*time.Second, "#chat li .chat-text", xssChat)
	b.waitText(5*time.Second, "#chat li .chat-user", "mallory")
	b.noMarkup("player")

	// The like button works for the logged-in user, live.
	b.click("#like")
	b.waitText(10*time.Second, "#likes", "1")

	// Dashboard: the same browser is logged in by the player's login.
	b.open(s.URL + "/dashboard")
	b.waitText(10*time.Second, "#st-name", xssStation)
	b.waitText(10*time.Second, "#playlist .track-title", xssTitle)
	b.waitText(5*time.Second, "#playlist .track-artist", xssArtist)
	b.waitText(10*time.Second, "#st-title", xssTitle)
	b.waitText(5*time.Second, "#station-list .card-name", xssStation)
	label := js[string](b, `document.querySelector('#playlist button[data-act=delete]').getAttribute('aria-label')`)
	if want := fmt.Sprintf("Delete %s by %s", xssTitle, xssArtist); label != want {
		t.Errorf("button label %q, want %q", label, want)
	}
	b.noMarkup("dashboard")

	// Nothing ran anywhere: no dialog, no exception.
	b.checkClean()
}
