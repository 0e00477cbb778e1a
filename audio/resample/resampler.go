// Package resample owns sample-rate conversion of decoded PCM: each track to
// its station's mix rate, and the mix to the 48 kHz Opus needs. A hand-written
// streaming polyphase windowed-sinc filter.
package resample

import (
	"fmt"
	"math"
	"time"
)

// blockFrames is how many input frames are staged per step. The staging
// buffer keeps the last taps-1 frames as filter history in front of them, so
// Process never allocates whatever the size of its input.
const blockFrames = 1024

// conv is one input rate's conversion to the output rate.
type conv struct {
	inRate int
	bank   *bank // nil when inRate == outRate: frames are copied as they are
	l      int   // upsampling factor L (1 when copying)
	q      int   // M / L: whole input frames the window advances per output
	rem    int   // M % L: phase advance per output
}

// Resampler converts interleaved float32 PCM from one rate to another,
// keeping filter history between calls so that a stream may be fed in any
// chunking with bit-identical output. It is not safe for concurrent use: one
// station's playout goroutine owns it. Use New; the zero value produces
// nothing.
type Resampler struct {
	outRate int
	ch      int
	cur     conv

	// buf holds ch-interleaved frames: taps-1 frames of history then up to
	// blockFrames new ones; fill is the frame count in use.
	buf  []float32
	fill int
	// When resampling, base is the buf index of the newest frame in the
	// next output's window (the oldest is base-taps+1) and phase p selects
	// the filter; the output sits at base + p/L - taps/2 + 1/(2L) (see
	// center). When copying, base is the next buf frame to emit.
	base  int
	phase int

	// A rate change waits until the output reaches the new track's first
	// frame, buf index switchAt, so each output is computed with the rate
	// of the track it falls in (see SetInputRate).
	switching bool
	next      conv
	switchAt  int
}

// New returns a resampler from inRate to outRate for channels (1 or 2). The
// ratio is reduced to L/M (44100→48000 = 160/147, 22050→48000 = 320/147,
// 32000→48000 = 3/2, ...). Equal rates pass samples through unchanged with
// no delay. The filter table for a ratio is built once per process and
// shared.
func New(inRate, outRate, channels int) (*Resampler, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("resample: new %d→%d Hz, %d channels: %w", inRate, outRate, channels, ErrChannels)
	}
	if !validRate(outRate) {
		return nil, fmt.Errorf("resample: new: output rate %d Hz: %w", outRate, ErrRate)
	}
	c, err := newConv(inRate, outRate)
	if err != nil {
		return nil, fmt.Errorf("resample: new: %w", err)
	}
	r := &Resampler{
		outRate: outRate,
		ch:      channels,
		cur:     c,
		buf:     make([]float32, (taps-1+blockFrames)*channels),
	}
	r.Reset()
	return r, nil
}

func validRate(rate int) bool { return rate > 0 && rate <= MaxRate }

func newConv(inRate, outRate int) (conv, error) {
	if !validRate(inRate) {
		return conv{}, fmt.Errorf("input rate %d Hz: %w", inRate, ErrRate)
	}
	if inRate == outRate {
		return conv{inRate: inRate, l: 1, q: 1}, nil
	}
	g := gcd(inRate, outRate)
	l, m := outRate/g, inRate/g
	if l > MaxPhases || m > 2*l {
		return conv{}, fmt.Errorf("%d→%d Hz (%d/%d): %w", inRate, outRate, l, m, ErrRatio)
	}
	return conv{inRate: inRate, bank: bankFor(l, m), l: l, q: m / l, rem: m % l}, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Reset clears the history, as after a gap in the input: the next output is
// computed as if silence preceded the next input. A pending rate change
// takes effect at once.
func (r *Resampler) Reset() {
	if r.switching {
		r.cur, r.switching = r.next, false
	}
	clear(r.buf)
	r.fill = taps - 1
	r.base = r.fill
	r.phase = 0
}

// SetInputRate switches to a new input rate from the next input frame, for
// a track change to another sample rate. Output continues without a gap or
// a jump in time: outputs that fall in the old track are still computed at
// the old rate (their windows reach up to taps/2 frames into the new track,
// read as if at the old rate), the first output that falls in the new track
// uses the new rate, and the time between is carried over to within 1/(2L)
// of a frame. Replaying the old track's last frames at the new rate instead
// clicks (a 10× steeper step at 8→44.1 kHz in the tests). It builds the new
// ratio's table on first use, which allocates once. On error nothing
// changes. MaxOut grows for the call that crosses the change: ask it again.
func (r *Resampler) SetInputRate(inRate int) error {
	if r.ch == 0 {
		return fmt.Errorf("resample: set input rate on a zero Resampler: %w", ErrChannels)
	}
	target := r.cur.inRate
	if r.switching {
		target = r.next.inRate
	}
	if inRate == target {
		return nil
	}
	c, err := newConv(inRate, r.outRate)
	if err != nil {
		return fmt.Errorf("resample: set input rate: %w", err)
	}
	if r.switching && r.switchAt != r.fill {
		// The output has not reached a track that already started (it is
		// shorter than half a window so far). Switch to it now, keeping the
		// position: its few frames play at their rate. Carrying the time
		// over instead could move the position back into old history.
		c := r.center()
		r.cur, r.switching = r.next, false
		r.seek(c)
	}
	if c.inRate == r.cur.inRate {
		r.switching = false
		return nil
	}
	r.next, r.switchAt, r.switching = c, r.fill, true
	return nil
}

// reached reports whether the next output falls at or after switchAt.
// For the filter, center ≥ switchAt reduces to base ≥ switchAt + taps/2.
func (r *Resampler) reached() bool {
	if r.cur.bank == nil {
		return r.base >= r.switchAt
	}
	return r.base >= r.switchAt+taps/2
}

// apply makes the pending rate current. The distance of the next output
// from the new track's start is a time; it is kept as a time, so it is
// rescaled from old-rate to new-rate frames.
func (r *Resampler) apply() {
	c := r.center()
	e := float64(r.switchAt)
	old := r.cur.inRate
	r.cur, r.switching = r.next, false
	r.seek(e + (c-e)*float64(r.cur.inRate)/float64(old))
}

// center is the position, in buf frames, of the next output. For a
// symmetric filter of taps·L coefficients the output at window end base
// and phase p sits (taps·L−1)/(2L) frames before base + p/L.
func (r *Resampler) center() float64 {
	if r.cur.bank == nil {
		return float64(r.base)
	}
	l := float64(r.cur.l)
	return float64(r.base) + float64(r.phase)/l - taps/2 + 1/(2*l)
}

// seek places the next output at buf position c for the current rate,
// to the nearest phase (or frame when copying).
func (r *Resampler) seek(c float64) {
	if r.cur.bank == nil {
		r.base = min(max(int(math.Round(c)), 0), r.fill)
		r.phase = 0
		return
	}
	l := float64(r.cur.l)
	t := c + taps/2 - 1/(2*l)
	base := int(math.Floor(t))
	p := int(math.Round((t - float64(base)) * l))
	if p >= r.cur.l {
		p -= r.cur.l
		base++
	}
	if base < taps-1 { // the window must not start before the history
		base, p = taps-1, 0
	}
	r.base, r.phase = base, p
}

// Channels is the channel count the resampler was made for.
func (r *Resampler) Channels() int { return r.ch }

// Latency is the group delay of the current rate: how long after an input
// frame its content appears in the output. 0 when passing through; for
// 44.1→48 kHz it is (32·160−1)/(2·160) input frames ≈ 362.7 µs.
func (r *Resampler) Latency() time.Duration {
	if r.cur.bank == nil {
		return 0
	}
	frames := float64(taps*r.cur.l-1) / float64(2*r.cur.l)
	return time.Duration(math.Round(frames / float64(r.cur.inRate) * float64(time.Second)))
}

// MaxOut is the most output frames the next Process call can return for
// inFrames input frames, whatever the stream position. It depends on the
// rate, and on a pending rate change (the old track's last outputs come
// out in the same call), so ask it after SetInputRate.
func (r *Resampler) MaxOut(inFrames int) int {
	inFrames = max(inFrames, 0)
	if !r.switching {
		return maxOut(r.cur, inFrames)
	}
	// Frames before switchAt go out at the old rate, those after it at the
	// new one; each side may add its window span plus rounding.
	return maxOut(r.cur, taps) + maxOut(r.next, inFrames)
}

func maxOut(c conv, inFrames int) int {
	if c.bank == nil {
		return inFrames + taps // frames held back by an earlier rate change
	}
	m := c.q*c.l + c.rem
	return (inFrames+1)*c.l/m + 2
}

// Process consumes all of in (interleaved frames; a trailing partial frame
// is ignored) and writes the output frames that are now computable to out,
// returning how many frames it wrote. out must hold MaxOut(len(in)/channels)
// frames; output that does not fit is dropped (time still advances) rather
// than written out of bounds.
func (r *Resampler) Process(in, out []float32) int {
	ch := r.ch
	if ch == 0 {
		return 0
	}
	o := 0
	for {
		n := min(len(in)/ch, blockFrames)
		copy(r.buf[r.fill*ch:], in[:n*ch])
		in = in[n*ch:]
		r.fill += n
		o = r.drain(out, o)
		r.keepHistory()
		if len(in) < ch {
			return o
		}
	}
}

// drain writes every output computable from buf, crossing a pending rate
// change when the output reaches it.
func (r *Resampler) drain(out []float32, o int) int {
	for {
		end := r.fill
		if r.switching {
			if r.cur.bank == nil {
				end = min(end, r.switchAt)
			} else {
				end = min(end, r.switchAt+taps/2)
			}
		}
		switch {
		case r.cur.bank == nil:
			o = r.copyOut(out, o, end)
		case r.ch == 2:
			o = r.stereo(out, o, end)
		default:
			o = r.mono(out, o, end)
		}
		if !r.switching || !r.reached() {
			return o
		}
		r.apply()
	}
}

// keepHistory moves the last taps-1 frames to the front of buf.
func (r *Resampler) keepHistory() {
	drop := r.fill - (taps - 1)
	if drop <= 0 {
		return
	}
	copy(r.buf, r.buf[drop*r.ch:r.fill*r.ch])
	r.fill -= drop
	r.base -= drop
	r.switchAt -= drop
}

// copyOut is the pass-through kernel: frames [base, end) as they are.
func (r *Resampler) copyOut(out []float32, o, end int) int {
	ch := r.ch
	if r.base >= end {
		return o
	}
	n := copy(out[min(o*ch, len(out)):], r.buf[r.base*ch:end*ch])
	r.base = end
	return o + n/ch
}

// stereo computes the outputs whose window ends before end, from out frame
// o on. Four accumulators per channel (taps k mod 4) cut the floating-point
// add dependency chain from 32 to 8 adds, which is what bounds a scalar
// dot product; the array-pointer conversions let the compiler drop every
// bounds check in the tap loop.
func (r *Resampler) stereo(out []float32, o, end int) int {
	coef, buf := r.cur.bank.coef, r.buf
	base, p := r.base, r.phase
	l, q, rem := r.cur.l, r.cur.q, r.cur.rem
	for base < end {
		if 2*o+1 < len(out) {
			t := (*[taps]float32)(coef[p*taps:])
			w := (*[2 * taps]float32)(buf[2*(base-(taps-1)):])
			var l0, l1, l2, l3, r0, r1, r2, r3 float32
			for k := 0; k < taps; k += 4 {
				c := (*[4]float32)(t[k:])
				x := (*[8]float32)(w[2*k:])
				l0 += c[0] * x[0]
				r0 += c[0] * x[1]
				l1 += c[1] * x[2]
				r1 += c[1] * x[3]
				l2 += c[2] * x[4]
				r2 += c[2] * x[5]
				l3 += c[3] * x[6]
				r3 += c[3] * x[7]
			}
			out[2*o] = (l0 + l1) + (l2 + l3)
			out[2*o+1] = (r0 + r1) + (r2 + r3)
			o++
		}
		base += q
		p += rem
		if p >= l {
			p -= l
			base++
		}
	}
	r.base, r.phase = base, p
	return o
}

// mono is stereo for one channel, with four accumulators.
func (r *Resampler) mono(out []float32, o, end int) int {
	coef, buf := r.cur.bank.coef, r.buf
	base, p := r.base, r.phase
	l, q, rem := r.cur.l, r.cur.q, r.cur.rem
	for base < end {
		if o < len(out) {
			t := (*[taps]float32)(coef[p*taps:])
			w := (*[taps]float32)(buf[base-(taps-1):])
			var a0, a1, a2, a3 float32
			for k := 0; k < taps; k += 4 {
				a0 += t[k] * w[k]
				a1 += t[k+1] * w[k+1]
				a2 += t[k+2] * w[k+2]
				a3 += t[k+3] * w[k+3]
			}
			out[o] = (a0 + a1) + (a2 + a3)
			o++
		}
		base += q
		p += rem
		if p >= l {
			p -= l
			base++
		}
	}
	r.base, r.phase = base, p
	return o
}
