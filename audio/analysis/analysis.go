// Package analysis measures a track's sound once, at ingest: integrated
// loudness (ITU-R BS.1770-4 with gating, as EBU R128 uses it), true peak,
// and cue points that skip leading and trailing silence.
package analysis

import (
	"errors"
	"math"
	"time"

	"github.com/onairfm/onair"
)

// ErrSilent is returned by Result for a track with no audible sound.
var ErrSilent = errors.New("analysis: the track is silent")

// Analyzer measures interleaved float32 PCM fed in any chunking.
// PLACEHOLDER: sample peak and RMS only, until the BS.1770 meter lands.
type Analyzer struct {
	rate, ch int
	n        int64
	sum      float64
	peak     float64
	first    int64
	last     int64
}

// New returns an analyzer for PCM at rate Hz with channels channels (1 or 2).
func New(rate, channels int) *Analyzer {
	return &Analyzer{rate: rate, ch: channels, first: -1}
}

// Write feeds interleaved samples (a whole number of frames).
func (a *Analyzer) Write(pcm []float32) {
	for i, x := range pcm {
		v := math.Abs(float64(x))
		a.sum += v * v
		a.peak = max(a.peak, v)
		if v > 0.001 {
			f := a.n + int64(i/a.ch)
			if a.first < 0 {
				a.first = f
			}
			a.last = f
		}
	}
	a.n += int64(len(pcm) / a.ch)
}

// Result returns the measurements; ErrSilent when nothing was audible.
func (a *Analyzer) Result() (onair.Analysis, error) {
	if a.first < 0 || a.n == 0 {
		return onair.Analysis{}, ErrSilent
	}
	rms := math.Sqrt(a.sum / float64(a.n*int64(a.ch)))
	d := func(f int64) time.Duration { return time.Duration(f) * time.Second / time.Duration(a.rate) }
	return onair.Analysis{
		Loudness: 20*math.Log10(rms) - 0.691 + 3,
		Peak:     20 * math.Log10(a.peak),
		CueIn:    d(a.first),
		CueOut:   d(a.last + 1),
	}, nil
}
