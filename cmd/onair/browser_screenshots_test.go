package main

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserScreenshots saves each page at desktop and phone sizes for a
// person to look at (the folder is logged and kept), and checks what a
// machine can: nothing wider than the phone's screen, and a visible focus
// ring on the keyboard-focused Play button.
func TestBrowserScreenshots(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Night Owl Radio", "tone440.mp3", "tone880.mp3", "unicode.mp3")
	s.must(200, "POST", "/api/stations/"+slug+"/metadata", tok, map[string]string{"show": "Late Show"}, nil)
	s.must(201, "POST", "/api/stations", tok, map[string]string{"name": "Morning Coffee", "genre": "Acoustic", "description": "Gentle tunes to wake up to"}, nil)
	dir, err := os.MkdirTemp("", "onair-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	b := newBrowser(t)

	sizes := []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"desktop", 1280, 800, false},
		{"phone", 390, 844, true},
	}
	shoot := func(page string) {
		t.Helper()
		for _, sz := range sizes {
			b.screenshot(dir, page+"-"+sz.name, sz.width, sz.height, sz.mobile)
			if sz.mobile {
				over := js[string](b, `(() => {
				  const w = document.documentElement.clientWidth;
				  const wide = [...document.querySelectorAll('body *')].filter(e => {
				    const r = e.getBoundingClientRect();
				    return r.width > 0 && r.right > w + 1 && getComputedStyle(e).position !== 'absolute';
				  }).map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
				  return document.documentElement.scrollWidth > w ? 'page ' + document.documentElement.scrollWidth + 'px: ' + wide.slice(0, 5).join(', ') : '';
				})()`)
				if over != "" {
					t.Errorf("%s at %d px is wider than the screen: %s", page, sz.width, over)
				}
			}
		}
	}

	b.open(s.URL + "/")
	b.waitText(10*time.Second, ".card.is-live .card-np", "Now playing: Test Artist – Tone 440")
	shoot("directory")

	b.open(s.URL + "/stations/" + slug)
	b.waitText(10*time.Second, "#np-title", "Tone 440")
	b.click("#play")
	b.waitJS(20*time.Second, "the player playing", `document.querySelector("#status").dataset.state === "playing"`)
	// Keyboard focus shows: Tab from the volume slider back to Play.
	js[bool](b, `(document.querySelector('#volume').focus(), true)`)
	b.do(5*time.Second, shiftTab())
	if got := js[string](b, `document.activeElement.id + ' ' + document.activeElement.matches(':focus-visible') + ' ' + getComputedStyle(document.activeElement).outlineStyle`); got != "play true solid" {
		t.Errorf("focused element and its outline: %q, want the Play button with a solid outline", got)
	}
	shoot("player")

	b.dashboardLogin(s.URL, "deejay", "owner-password")
	b.waitText(10*time.Second, "#st-title", "Tone 440")
	b.waitJS(10*time.Second, "the playlist", `document.querySelectorAll('#playlist li').length === 3`)
	shoot("dashboard")
	b.checkClean()
}

// shiftTab presses Shift+Tab, as a keyboard user going backwards.
func shiftTab() chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
}
