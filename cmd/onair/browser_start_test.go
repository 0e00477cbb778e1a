package main

import (
	"slices"
	"testing"
	"time"
)

// playTimes is how many Plays TestBrowserPlayStart times: the first in a
// fresh browser, then later ones, each after a Stop.
const playTimes = 12

// TestBrowserPlayStart times Play → sound in a fresh Chromium, phase by
// phase, as the page measures it (onairPlayer.phases, ms after the
// click). It asserts that every Play plays, never how fast: the figures
// are logged for docs/PERFORMANCE.md.
func TestBrowserPlayStart(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Tone FM", "tone440.mp3", "tone880.mp3")
	b := newBrowser(t)
	b.open(s.URL + "/stations/" + slug)
	b.waitText(10*time.Second, "#np-title", "Tone 440")
	b.waitJS(5*time.Second, "the Play button enabled", `(`+playButtonJS+`) && !(`+playButtonJS+`).disabled`)

	type phases struct {
		Offer, Answer, ICE, DTLS, Packet, Audible float64
		Path                                      string
	}
	var later []float64
	for i := range playTimes {
		// "After load": the page has made its next PeerConnection and
		// gathered its candidates.
		b.waitJS(10*time.Second, "the next PeerConnection prepared", `onairPlayer.prepared`)
		b.waitJS(5*time.Second, "a click on Play", `(`+playButtonJS+`).click() || true`)
		b.waitJS(20*time.Second, "sound", `onairPlayer.phases && onairPlayer.phases.audible !== undefined`)
		p := js[phases](b, `(() => { const p = onairPlayer.phases;
			return {Offer: p.offer, Answer: p.answer, ICE: p.ice, DTLS: p.dtls, Packet: p.packet, Audible: p.audible, Path: p.path}; })()`)
		if p.Path != "webrtc" {
			t.Fatalf("play %d: path %q", i, p.Path)
		}
		t.Logf("play %2d: offer %4.0f answer %4.0f ice %4.0f dtls %4.0f packet %4.0f audible %4.0f ms",
			i, p.Offer, p.Answer, p.ICE, p.DTLS, p.Packet, p.Audible)
		if i > 0 {
			later = append(later, p.Audible)
		}
		b.click("#play")
		b.waitText(5*time.Second, "#play", "Play")
	}
	slices.Sort(later)
	t.Logf("later plays: p50 %.0f ms, p95 %.0f ms, max %.0f ms over %d", pct(later, 50), pct(later, 95), later[len(later)-1], len(later))
	b.checkClean()
}

// pct is the p-th percentile of sorted xs (nearest rank).
func pct(xs []float64, p float64) float64 {
	i := int(float64(len(xs))*p/100+0.5) - 1
	return xs[max(0, min(i, len(xs)-1))]
}
