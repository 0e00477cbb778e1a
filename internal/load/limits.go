package load

import (
	"errors"
	"fmt"
	"time"
)

// ErrOverLimits is a run whose listeners were not all served within the
// limits asked for.
var ErrOverLimits = errors.New("load: run over its limits")

// Limits say when a run counts as served; the capacity scripts raise the
// listener count in steps until a run is not.
type Limits struct {
	// TTFBP99 bounds the HTTP first-byte p99; 0: no bound.
	TTFBP99 time.Duration
	// OfferP99 bounds the WebRTC offer-to-first-packet p99; 0: no bound.
	OfferP99 time.Duration
	// LossPercent bounds WebRTC packet loss in the steady phase.
	LossPercent float64
}

// Within returns why r is not within l, nothing when it is. Beyond l,
// every listener asked for must have got in and stayed to the end, and no
// HTTP listener may have been slow or have had its player run dry: a
// player that starts at its first byte hears no gap.
func (r Report) Within(l Limits) []string {
	var why []string
	add := func(format string, args ...any) { why = append(why, fmt.Sprintf(format, args...)) }
	if h := r.HTTP; h != nil && h.Attempted > 0 {
		if h.Connected < h.Attempted {
			add("HTTP: %d of %d got in %s", h.Connected, h.Attempted, failures(h.Failures))
		}
		if h.Dropped > 0 {
			add("HTTP: %d dropped", h.Dropped)
		}
		if h.Slow > 0 {
			add("HTTP: %d under 95%% of the rate", h.Slow)
		}
		if h.Underruns > 0 {
			add("HTTP: %d players ran dry, longest %.0f ms", h.Underruns, h.MaxDryMS)
		}
		if bound := ms(l.TTFBP99); bound > 0 && h.TTFBMS.P99 > bound {
			add("HTTP: first byte p99 %.0f ms over %.0f ms", h.TTFBMS.P99, bound)
		}
	}
	if w := r.WebRTC; w != nil && w.Attempted > 0 {
		if w.Connected < w.Attempted {
			add("WebRTC: %d of %d got in %s", w.Connected, w.Attempted, failures(w.Failures))
		}
		if w.Dropped > 0 {
			add("WebRTC: %d dropped", w.Dropped)
		}
		if w.LossPercent > l.LossPercent {
			add("WebRTC: loss %.2f%% over %.2f%%", w.LossPercent, l.LossPercent)
		}
		if bound := ms(l.OfferP99); bound > 0 && w.FirstPacketMS.P99 > bound {
			add("WebRTC: offer to audio p99 %.0f ms over %.0f ms", w.FirstPacketMS.P99, bound)
		}
	}
	if len(r.Errors) > 0 {
		add("%d errors, first: %s", len(r.Errors), r.Errors[0])
	}
	return why
}
