// Package analysis measures a track's sound once, at ingest: integrated
// loudness (ITU-R BS.1770-4 with gating, as EBU R128 uses it), true peak,
// and cue points that skip leading and trailing silence.
package analysis

import (
	"fmt"
	"math"
	"time"

	"github.com/onairfm/onair"
)

// Cue detection: a 10 ms window is audible when any sample in it reaches
// -60 dBFS. A peak rather than an RMS test keeps quiet fade tails that a
// loudness gain could lift into hearing; the cue points keep one more
// window of margin on each side.
const (
	cueThreshold = 0.001 // -60 dBFS
	cueWindowsPS = 100   // windows per second: 10 ms
)

// chunkFrames bounds the work buffers: Write processes its input in runs
// of at most this many frames, so memory does not grow with the chunking.
const chunkFrames = 1024

// Analyzer measures interleaved float32 PCM fed in any chunking. Memory is
// fixed at New (about 100 KB) whatever the track's length; Write does not
// allocate. An Analyzer is not safe for concurrent use.
type Analyzer struct {
	rate, ch int
	bad      bool
	frames   int64 // frames written

	// K-weighting, one pair of biquads per channel (transposed direct
	// form II state: two values per stage).
	shelf, hp biquad
	z         [][4]float64

	// Loudness: 100 ms sub-blocks of K-weighted energy; every sub-block
	// closes a 400 ms gating block made of the last four (75% overlap).
	subIdx int64   // sub-blocks finished
	subEnd int64   // frame at which the current sub-block ends
	subSum float64 // squared K-weighted samples, all channels, so far
	subN   int64
	last4  [4]struct {
		sum float64
		n   int64
	}
	gate *gate

	// True peak: per channel, InterpolatorTaps-1 samples of history
	// followed by the current chunk, deinterleaved.
	tp   *Interpolator
	w    [][]float32
	peak float32 // largest |sample| or interpolated value so far

	// Cue points: 10 ms windows, indices of the first and last audible.
	win               int
	winPos            int
	winPeak           float32
	winIdx            int64
	firstWin, lastWin int64
}

// New returns an analyzer for PCM at rate Hz (8000..192000) with channels
// channels (1 or 2). Other formats are reported by Result as ErrFormat.
func New(rate, channels int) *Analyzer {
	a := &Analyzer{rate: rate, ch: channels, firstWin: -1, lastWin: -1}
	if rate < 8000 || rate > 192000 || channels < 1 || channels > 2 {
		a.bad = true
		return a
	}
	a.shelf, a.hp = kWeighting(rate)
	a.z = make([][4]float64, channels)
	a.subEnd = int64(rate) / 10
	a.gate = new(gate)
	a.tp = NewInterpolator(rate)
	a.w = make([][]float32, channels)
	for c := range a.w {
		a.w[c] = make([]float32, InterpolatorTaps-1+chunkFrames)
	}
	a.win = rate / cueWindowsPS
	return a
}

// Write feeds interleaved samples, a whole number of frames; a trailing
// partial frame is ignored.
func (a *Analyzer) Write(pcm []float32) {
	if a.bad {
		return
	}
	for len(pcm) >= a.ch {
		n := min(len(pcm)/a.ch, chunkFrames)
		a.chunk(pcm[:n*a.ch], n)
		pcm = pcm[n*a.ch:]
	}
}

// chunk measures n frames (n <= chunkFrames).
func (a *Analyzer) chunk(pcm []float32, n int) {
	const h = InterpolatorTaps - 1
	// Deinterleave behind each channel's history.
	if a.ch == 1 {
		copy(a.w[0][h:], pcm)
	} else {
		l, r := a.w[0][h:h+n], a.w[1][h:h+n]
		for i := range n {
			l[i], r[i] = pcm[2*i], pcm[2*i+1]
		}
	}

	// Loudness, cut at sub-block boundaries.
	for s := 0; s < n; {
		e := min(n, s+int(a.subEnd-a.frames-int64(s)))
		for c := range a.ch {
			a.subSum += a.kfilter(a.w[c][h+s:h+e], &a.z[c])
		}
		a.subN += int64(e - s)
		s = e
		if a.frames+int64(s) == a.subEnd {
			a.closeSubBlock()
		}
	}

	// Cue windows.
	for s := 0; s < n; {
		e := min(n, s+a.win-a.winPos)
		for c := range a.ch {
			a.winPeak = max(a.winPeak, maxAbs(a.w[c][h+s:h+e]))
		}
		a.winPos += e - s
		s = e
		if a.winPos == a.win {
			a.closeWindow()
		}
	}

	// True peak, then keep the history for the next chunk.
	for c := range a.ch {
		// Runs ending at each new sample: their points lie between the
		// samples InterpolatorTaps/2 back, so the true peak lags a little.
		a.peak = a.tp.PeakAbove(a.w[c][:h+n], a.peak)
		copy(a.w[c], a.w[c][n:n+h])
	}
	a.frames += int64(n)

	// Silence decays the filter state into subnormal numbers, which are
	// slow on most CPUs; they are far below anything audible.
	for c := range a.z {
		for i, v := range a.z[c] {
			if math.Abs(v) < 1e-30 {
				a.z[c][i] = 0
			}
		}
	}
}

// kfilter K-weights x, updating the state z, and returns the sum of the
// squares of the output.
func (a *Analyzer) kfilter(x []float32, z *[4]float64) float64 {
	s, p := a.shelf, a.hp
	z0, z1, z2, z3 := z[0], z[1], z[2], z[3]
	sum := 0.0
	for _, v := range x {
		in := float64(v)
		y := s.b0*in + z0
		z0 = s.b1*in - s.a1*y + z1
		z1 = s.b2*in - s.a2*y
		o := y + z2
		z2 = -2*y - p.a1*o + z3
		z3 = y - p.a2*o
		sum += o * o
	}
	z[0], z[1], z[2], z[3] = z0, z1, z2, z3
	return sum
}

// closeSubBlock ends a 100 ms sub-block and, from the fourth on, feeds
// the 400 ms block it completes to the gate.
func (a *Analyzer) closeSubBlock() {
	a.last4[a.subIdx%4].sum, a.last4[a.subIdx%4].n = a.subSum, a.subN
	a.subIdx++
	a.subSum, a.subN = 0, 0
	a.subEnd = (a.subIdx + 1) * int64(a.rate) / 10
	if a.subIdx < 4 {
		return
	}
	var sum float64
	var n int64
	for _, b := range a.last4 {
		sum += b.sum
		n += b.n
	}
	a.gate.add(sum / float64(n))
}

func (a *Analyzer) closeWindow() {
	if a.winPeak >= cueThreshold {
		if a.firstWin < 0 {
			a.firstWin = a.winIdx
		}
		a.lastWin = a.winIdx
	}
	a.winIdx++
	a.winPos, a.winPeak = 0, 0
}

// Result returns the measurements of everything written so far:
// ErrSilent when nothing was audible, ErrFormat for a format New refused.
// The last partial 400 ms block is not counted (as BS.1770 has it); the
// true peak includes the interpolation past the last sample, into silence.
func (a *Analyzer) Result() (onair.Analysis, error) {
	if a.bad {
		return onair.Analysis{}, fmt.Errorf("analysis: %d Hz, %d channels: %w", a.rate, a.ch, ErrFormat)
	}
	firstWin, lastWin := a.firstWin, a.lastWin
	if a.winPos > 0 && a.winPeak >= cueThreshold {
		if firstWin < 0 {
			firstWin = a.winIdx
		}
		lastWin = a.winIdx
	}
	loudness, ok := a.gate.integrated()
	if firstWin < 0 || !ok {
		return onair.Analysis{}, ErrSilent
	}

	// The interpolation that the last InterpolatorTaps/2 samples still
	// owe: run the filter over the history followed by silence.
	const h = InterpolatorTaps - 1
	peak := a.peak
	tail := make([]float32, h+InterpolatorTaps/2)
	for c := range a.ch {
		copy(tail, a.w[c][:h])
		peak = a.tp.PeakAbove(tail, peak)
	}

	win := int64(a.win)
	in := max(0, (firstWin-1)*win)
	out := min(a.frames, (lastWin+2)*win)
	return onair.Analysis{
		Loudness: loudness,
		Peak:     20 * math.Log10(float64(peak)),
		CueIn:    a.duration(in),
		CueOut:   a.duration(out),
	}, nil
}

func (a *Analyzer) duration(frames int64) time.Duration {
	return time.Duration(frames) * time.Second / time.Duration(a.rate)
}
