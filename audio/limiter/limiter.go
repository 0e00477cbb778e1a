// Package limiter keeps a station's mix under its true-peak ceiling: a
// streaming look-ahead limiter whose detector sees the peaks between
// samples (4x oversampled, as BS.1770 true peak is measured), so that the
// output, once decoded and reconstructed, stays under the ceiling.
package limiter

import (
	"math"
	"time"

	"github.com/onairfm/onair/audio/analysis"
)

// Timing. Five milliseconds of look-ahead lets the gain come down in a
// straight line instead of a step (a step is a click); the release brings
// it back with an 80 ms time constant, short enough not to duck the music
// after a lone peak and long enough not to modulate low notes.
const (
	lookAhead = 5 * time.Millisecond
	release   = 80 * time.Millisecond
)

// margin keeps the detector this far under the ceiling, dB: other
// meters' interpolators (ffmpeg's ebur128 among them) read peaks of
// noise-like signals up to about 0.2 dB higher than this one.
const margin = 0.2

// blockFrames bounds the work buffers: Process handles its input in runs
// of at most this many frames.
const blockFrames = 1024

// Limiter is a look-ahead true-peak limiter for interleaved float32 PCM,
// the same gain on every channel. Below the ceiling it is a pure delay of
// Latency frames; its memory is fixed at New and Process does not
// allocate. A Limiter is not safe for concurrent use.
type Limiter struct {
	ch        int
	threshold float32 // linear, ceiling less margin
	look      int     // look-ahead, frames: the gain ramp's length
	hold      int     // extra frames the gain stays down on each side of a peak
	latency   int

	ip     *analysis.Interpolator // nil: sample peaks (NewSamplePeak)
	detect int                    // frames from a frame's arrival to its verdict
	w      [][]float32            // per channel: latency frames of history, then a block
	peak   []float32              // per frame of a block: the detected true peak

	// Sliding minimum of the required gain over look+2*hold frames: a
	// ring of (frame, gain) increasing in both, only gains below 1.
	minFrame []int64
	minGain  []float32
	minHead  int
	minLen   int
	frame    int64 // detector frames so far

	rel   float64   // the released gain, before the ramp
	relK  float64   // release step per frame, of the distance to 1
	box   []float64 // the last look released gains, a ring
	boxAt int
	sum   float64 // of box
	ones  int     // how many of the last box entries are exactly 1
}

// New returns a limiter for rate Hz, channels channels, holding the true
// peak at or under ceilingDBTP (e.g. -1).
func New(rate, channels int, ceilingDBTP float64) *Limiter {
	rate = max(rate, 8000)
	channels = max(channels, 1)
	l := &Limiter{
		ch:        channels,
		threshold: float32(math.Pow(10, (ceilingDBTP-margin)/20)),
		look:      max(1, int(lookAhead.Seconds()*float64(rate)+0.5)),
		hold:      analysis.InterpolatorTaps / 2,
		ip:        analysis.NewInterpolator(rate),
		relK:      1 - math.Exp(-1/(release.Seconds()*float64(rate))),
	}
	// The detector's verdict on frame m comes once the run of samples
	// around it is in: detect frames after it arrives. The gain that
	// covers frame m is then ready look+hold-1 frames later.
	l.detect = analysis.InterpolatorTaps - 1 - analysis.Centre
	l.latency = l.detect + l.look + l.hold - 1
	l.w = make([][]float32, channels)
	for c := range l.w {
		l.w[c] = make([]float32, l.latency+blockFrames)
	}
	l.peak = make([]float32, blockFrames)
	window := l.look + 2*l.hold
	l.minFrame = make([]int64, window+1)
	l.minGain = make([]float32, window+1)
	l.box = make([]float64, l.look)
	l.Reset()
	return l
}

// NewSamplePeak returns a limiter that holds the sample peak, not the true
// peak, at or under ceilingDB (dBFS): for a guard in front of an encoder
// whose input must not exceed a level (shine's fixed-point filter bank),
// where peaks between samples do not matter. It skips the 4x oversampled
// search, which is most of a limiter's cost on loud material.
func NewSamplePeak(rate, channels int, ceilingDB float64) *Limiter {
	l := New(rate, channels, ceilingDB)
	l.ip = nil
	return l
}

// Latency is the limiter's delay, frames: Process returns each frame this
// many frames after it was given.
func (l *Limiter) Latency() int { return l.latency }

// Reset forgets the signal: the delay line is silent and the gain is 1.
func (l *Limiter) Reset() {
	for c := range l.w {
		clear(l.w[c])
	}
	l.minHead, l.minLen, l.frame = 0, 0, 0
	l.rel = 1
	for i := range l.box {
		l.box[i] = 1
	}
	l.boxAt, l.sum, l.ones = 0, float64(l.look), l.look
}

// idle reports whether the gain is 1 and will stay 1 for as long as no
// new frame needs less.
func (l *Limiter) idle() bool { return l.minLen == 0 && l.ones >= l.look }

// Process limits pcm in place: interleaved, a whole number of frames (a
// trailing partial frame is left alone), any length. What comes out is
// the input of Latency frames before, times the gain.
func (l *Limiter) Process(pcm []float32) {
	for len(pcm) >= l.ch {
		n := min(len(pcm)/l.ch, blockFrames)
		l.block(pcm[:n*l.ch], n)
		pcm = pcm[n*l.ch:]
	}
}

func (l *Limiter) block(pcm []float32, n int) {
	d, ch := l.latency, l.ch
	// Deinterleave behind the history.
	if ch == 2 {
		a, b := l.w[0][d:d+n], l.w[1][d:d+n]
		for i := range n {
			a[i], b[i] = pcm[2*i], pcm[2*i+1]
		}
	} else {
		for c := range ch {
			x := l.w[c][d : d+n]
			for i := range n {
				x[i] = pcm[i*ch+c]
			}
		}
	}

	// Detect: the runs ending at the new frames. Peaks leaves frames that
	// cannot exceed the threshold at 0.
	first := d - analysis.InterpolatorTaps + 1
	peak := l.peak[:n]
	clear(peak)
	for c := range ch {
		if l.ip == nil {
			// The sample the interpolator's run would be centred on.
			samplePeaks(l.w[c][d-l.detect:d-l.detect+n], l.threshold, peak)
			continue
		}
		l.ip.Peaks(l.w[c][first:d+n], l.threshold, peak)
	}
	quiet := l.idle()
	for _, p := range peak {
		if p > l.threshold {
			quiet = false
			break
		}
	}

	if quiet {
		// The common case: gain 1 throughout, a pure delay.
		l.frame += int64(n)
		l.ones = l.look
		for c := range ch {
			x := l.w[c][:n]
			for i, v := range x {
				pcm[i*ch+c] = v
			}
		}
	} else if ch == 2 {
		a, b := l.w[0][:n], l.w[1][:n]
		out := pcm[:2*n]
		for i, p := range peak {
			g := l.gain(p)
			out[2*i] = float32(g * float64(a[i]))
			out[2*i+1] = float32(g * float64(b[i]))
		}
	} else {
		for i, p := range peak {
			g := l.gain(p)
			for c := range ch {
				pcm[i*ch+c] = float32(g * float64(l.w[c][i]))
			}
		}
	}
	for c := range ch {
		copy(l.w[c], l.w[c][n:n+d])
	}
}

// gain advances the gain computer by one frame whose detected true peak
// is p and returns the gain for the frame leaving the delay line now.
func (l *Limiter) gain(p float32) float64 {
	f := l.frame
	l.frame++
	window := int64(l.look + 2*l.hold)
	size := len(l.minGain)

	// Sliding minimum of the required gain. (Ring indices wrap by a
	// compare, not %: this runs per frame.)
	wrap := func(i int) int {
		if i >= size {
			i -= size
		}
		return i
	}
	if p > l.threshold {
		g := l.threshold / p
		for l.minLen > 0 && l.minGain[wrap(l.minHead+l.minLen-1)] >= g {
			l.minLen--
		}
		i := wrap(l.minHead + l.minLen)
		l.minFrame[i], l.minGain[i] = f, g
		l.minLen++
	}
	for l.minLen > 0 && l.minFrame[l.minHead] <= f-window {
		l.minHead = wrap(l.minHead + 1)
		l.minLen--
	}
	target := 1.0
	if l.minLen > 0 {
		target = float64(l.minGain[l.minHead])
	}

	// Instant attack, exponential release towards 1; the ramp below
	// smooths the attack across the look-ahead.
	r := l.rel + (1-l.rel)*l.relK
	if 1-r < 1e-6 {
		r = 1
	}
	l.rel = min(r, target)

	// The ramp: the mean of the last look released gains.
	old := l.box[l.boxAt]
	l.box[l.boxAt] = l.rel
	l.boxAt++
	if l.boxAt == len(l.box) {
		l.boxAt = 0
	}
	if l.rel == 1 {
		l.ones++
	} else {
		l.ones = 0
	}
	if l.ones >= l.look {
		l.sum = float64(l.look) // all ones: exact, and no drift
		return 1
	}
	l.sum += l.rel - old
	return l.sum / float64(l.look)
}

// samplePeaks raises peak[i] to |x[i]| where that exceeds threshold, as
// Interpolator.Peaks does for true peaks.
func samplePeaks(x []float32, threshold float32, peak []float32) {
	for i, v := range x {
		if v < 0 {
			v = -v
		}
		if v > threshold && v > peak[i] {
			peak[i] = v
		}
	}
}
