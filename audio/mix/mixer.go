// Package mix owns a station's PCM mix: the tracks that sound at each
// moment, each decoded, resampled to the station's rate, brought to its
// gain and faded in and out, summed and kept under a true-peak ceiling.
//
// The mixer knows nothing of clocks or listeners: its caller schedules
// items on a timeline counted in frames at the mix rate and asks for any
// range of it. Because an item's sound at a frame depends only on the item,
// the same range can be rendered again after the mixer slept (a station
// nobody hears decodes nothing and still knows what plays).
package mix

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/resample"
)

// Channels is the mix's channel count: always stereo.
const Channels = 2

// Source is a decoded track; audio/decode's streams are sources.
type Source interface {
	SampleRate() int
	Channels() int
	Read(dst []float32) (int, error)
	SeekFrame(frame int64) error
	Close() error
}

// Opener opens a track's audio.
type Opener func(t onair.Track) (Source, error)

// Limiter keeps the summed mix under a ceiling, in place; Reset forgets
// the audio before, for a mix that starts again elsewhere.
type Limiter interface {
	Process(pcm []float32)
	Reset()
}

// Item is one track on the mix's timeline.
type Item struct {
	Track onair.Track
	// Start is the mix frame at which the item's cue-in point sounds.
	Start int64
	// Length is how many mix frames it sounds, from cue in to cue out.
	Length int64
	// FadeIn and FadeOut are the equal-power ramps at its two ends, in
	// frames; a crossfade is one item's FadeOut over the next's FadeIn.
	FadeIn, FadeOut int64
	// Gain is the linear gain that brings it to the loudness target.
	Gain float32
	// CueIn is where in the file the item starts.
	CueIn int64 // in the file's own frames
	// Live, when set, is the item's audio instead of the track's file: a
	// live source, read once, in real time. It is never sought: its
	// position is wherever its producer is.
	Live Source

	src     Source
	res     *resample.Resampler
	next    int64     // item frame the staged audio starts at; -1 when not positioned
	staged  []float32 // resampled stereo frames ready to mix
	in      []float32 // decoded frames in the source's layout
	rs      []float32 // resampler output
	done    bool      // the source ended: silence from here on
	broken  bool      // the source failed: the item stays silent
	srcRate int
}

// End is the mix frame after the item's last.
func (it *Item) End() int64 { return it.Start + it.Length }

// Mixer sums the items of a station's timeline. Fill Rate and Open; the
// Limiter is optional. It is not safe for concurrent use: one station
// goroutine owns it.
type Mixer struct {
	Rate    int
	Open    Opener
	Limiter Limiter
	// OnError is told when an item cannot be opened or read; the item then
	// plays as silence.
	OnError func(t onair.Track, err error)

	items []*Item
	spare spare
}

// spare keeps what forgotten items decoded and resampled with, for the
// items after them: a station adds an item per track, and each would
// otherwise allocate a resampler and its buffers (some 100 KB per item).
type spare struct {
	res  []*resample.Resampler
	bufs [][]float32
}

// maxSpare bounds each free list: a timeline rarely has more than two or
// three items sounding at once.
const maxSpare = 4

func (s *spare) put(it *Item) {
	if it.res != nil && len(s.res) < maxSpare {
		s.res = append(s.res, it.res)
	}
	for _, b := range [][]float32{it.in, it.rs, it.staged} {
		if cap(b) > 0 && len(s.bufs) < 3*maxSpare {
			s.bufs = append(s.bufs, b[:0])
		}
	}
	it.res, it.in, it.rs, it.staged = nil, nil, nil, nil
}

// resampler returns a resampler from rate to out for ch channels, a spare
// one when there is one of ch channels.
func (s *spare) resampler(rate, out, ch int) (*resample.Resampler, error) {
	for i, r := range s.res {
		if r.Channels() != ch {
			continue
		}
		if err := r.SetInputRate(rate); err != nil {
			return nil, fmt.Errorf("mix: %w", err)
		}
		r.Reset()
		s.res = append(s.res[:i], s.res[i+1:]...)
		return r, nil
	}
	r, err := resample.New(rate, out, ch)
	if err != nil {
		return nil, fmt.Errorf("mix: %w", err)
	}
	return r, nil
}

// buf returns an empty slice of capacity at least n, a spare one when one
// is big enough.
func (s *spare) buf(n int) []float32 {
	for i, b := range s.bufs {
		if cap(b) >= n {
			s.bufs = append(s.bufs[:i], s.bufs[i+1:]...)
			return b
		}
	}
	return make([]float32, 0, n)
}

// Add puts it on the timeline.
func (m *Mixer) Add(it *Item) {
	it.next = -1
	m.items = append(m.items, it)
}

// Items are the items on the timeline, in the order added.
func (m *Mixer) Items() []*Item { return m.items }

// Forget drops and closes every item that ended before frame at.
func (m *Mixer) Forget(at int64) {
	kept := m.items[:0]
	for _, it := range m.items {
		if it.End() <= at {
			it.close()
			m.spare.put(it)
			continue
		}
		kept = append(kept, it)
	}
	clear(m.items[len(kept):])
	m.items = kept
}

// Sleep closes every item's file; the timeline stays. The next Render
// opens what it needs again.
func (m *Mixer) Sleep() {
	for _, it := range m.items {
		it.close()
	}
	if m.Limiter != nil {
		m.Limiter.Reset()
	}
}

// Close drops the whole timeline.
func (m *Mixer) Close() {
	m.Sleep()
	clear(m.items)
	m.items = m.items[:0]
}

// Render writes the mix of frames [at, at+len(dst)/2) into dst.
func (m *Mixer) Render(dst []float32, at int64) {
	clear(dst)
	n := int64(len(dst) / Channels)
	for _, it := range m.items {
		from, to := max(at, it.Start), min(at+n, it.End())
		if from >= to {
			continue
		}
		m.mixItem(it, dst[(from-at)*Channels:(to-at)*Channels], from-it.Start)
	}
	if m.Limiter != nil {
		m.Limiter.Process(dst)
	}
}

// mixItem adds the item's frames from item frame k on into dst.
func (m *Mixer) mixItem(it *Item, dst []float32, k int64) {
	frames := len(dst) / Channels
	if it.broken {
		return
	}
	if it.next != k {
		m.position(it, k)
	}
	if it.broken {
		return
	}
	if err := m.fill(it, frames); err != nil {
		m.fail(it, err)
	}
	avail := min(frames, len(it.staged)/Channels)
	src := it.staged[:avail*Channels]
	if it.FadeIn == 0 && it.FadeOut == 0 || !it.fading(k, int64(avail)) {
		g := it.Gain
		for i, x := range src {
			dst[i] += g * x
		}
	} else {
		var g [fadeChunk]float32
		for f0 := 0; f0 < avail; f0 += fadeChunk {
			n := min(fadeChunk, avail-f0)
			it.fadeGains(k+int64(f0), g[:n])
			d, s := dst[2*f0:2*(f0+n)], src[2*f0:2*(f0+n)]
			for f, gf := range g[:n] {
				d[2*f] += gf * s[2*f]
				d[2*f+1] += gf * s[2*f+1]
			}
		}
	}
	rest := copy(it.staged, it.staged[avail*Channels:])
	it.staged = it.staged[:rest]
	it.next = k + int64(frames)
}

// fading reports whether any of frames [k, k+n) is inside a fade.
func (it *Item) fading(k, n int64) bool {
	return k < it.FadeIn || k+n > it.Length-it.FadeOut
}

// fadeChunk is how many frames' fade gains fadeGains is asked for at a
// time: a stack array's worth.
const fadeChunk = 256

// fadeGains sets g[f] to the item's gain times its equal-power fade
// envelope at item frame k+f: sin up over FadeIn, cos down over FadeOut
// (at the centre of each frame), so that a fade-out over a fade-in of the
// same length keeps the power of the sum constant. The sines and cosines
// of evenly spaced angles come from a rotation, one multiply-add per
// frame, started exactly at k: a sin and a cos per frame was most of the
// mixer's own cost during a crossfade. Over a chunk the rotation drifts
// by about 1e-13.
func (it *Item) fadeGains(k int64, g []float32) {
	var env [fadeChunk]float64
	e := env[:len(g)]
	for i := range e {
		e[i] = 1
	}
	n := int64(len(g))
	if k < it.FadeIn {
		rotate(e[:min(n, it.FadeIn-k)], k, it.FadeIn, false)
	}
	if out := it.Length - it.FadeOut; it.FadeOut > 0 && k+n > out {
		from := max(0, out-k)
		rotate(e[from:], k+from-out, it.FadeOut, true)
	}
	for i, v := range e {
		g[i] = it.Gain * float32(v)
	}
}

// rotate multiplies e[i] by sin (or cos, when down) of pi/2*(k+i+0.5)/length.
func rotate(e []float64, k, length int64, down bool) {
	step := math.Pi / 2 / float64(length)
	s, c := math.Sincos(step * (float64(k) + 0.5))
	ds, dc := math.Sincos(step)
	if down {
		for i := range e {
			e[i] *= c
			s, c = s*dc+c*ds, c*dc-s*ds
		}
		return
	}
	for i := range e {
		e[i] *= s
		s, c = s*dc+c*ds, c*dc-s*ds
	}
}

// position makes the item's next staged frame item frame k, opening its
// source when needed.
func (m *Mixer) position(it *Item, k int64) {
	it.staged = it.staged[:0]
	it.done = false
	it.next = k
	if it.Live != nil {
		if it.src == nil {
			it.src, it.srcRate = it.Live, it.Live.SampleRate()
		}
		if it.res == nil {
			res, err := m.spare.resampler(it.srcRate, m.Rate, it.src.Channels())
			if err != nil {
				m.fail(it, err)
				return
			}
			it.res = res
		}
		return
	}
	if it.src == nil {
		src, err := m.Open(it.Track)
		if err != nil {
			m.fail(it, err)
			return
		}
		if c := src.Channels(); c != 1 && c != 2 {
			_ = src.Close()
			m.fail(it, fmt.Errorf("mix: %d channels", c))
			return
		}
		it.src, it.srcRate = src, src.SampleRate()
	}
	pos := it.CueIn + k*int64(it.srcRate)/int64(m.Rate)
	if err := it.src.SeekFrame(pos); err != nil {
		m.fail(it, err)
		return
	}
	if it.res == nil {
		res, err := m.spare.resampler(it.srcRate, m.Rate, it.src.Channels())
		if err != nil {
			m.fail(it, err)
			return
		}
		it.res = res
	} else {
		it.res.Reset()
	}
}

// readBlock is how many source frames are decoded at a time.
const readBlock = 1152

// fill stages at least frames resampled stereo frames, or all that is left.
func (m *Mixer) fill(it *Item, frames int) error {
	for !it.done && len(it.staged) < frames*Channels {
		ch := it.src.Channels()
		if cap(it.in) < readBlock*ch {
			it.in = m.spare.buf(readBlock * ch)
		}
		n, err := it.src.Read(it.in[:readBlock*ch])
		if n > 0 {
			m.stage(it, it.in[:n-n%ch], ch)
		}
		if errors.Is(err, io.EOF) {
			it.done = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("mix: read track %d: %w", it.Track.ID, err)
		}
		if n == 0 {
			it.done = true
		}
	}
	return nil
}

// stage resamples in and appends it to the staged frames as stereo.
func (m *Mixer) stage(it *Item, in []float32, ch int) {
	frames := len(in) / ch
	need := it.res.MaxOut(frames) * ch
	if cap(it.rs) < need {
		it.rs = m.spare.buf(need)
	}
	if it.staged == nil {
		it.staged = m.spare.buf(need * Channels / ch)
	}
	got := it.res.Process(in, it.rs[:need])
	out := it.rs[:got*ch]
	if ch == 2 {
		it.staged = append(it.staged, out...)
		return
	}
	for _, x := range out {
		it.staged = append(it.staged, x, x)
	}
}

func (m *Mixer) fail(it *Item, err error) {
	it.close()
	it.broken = true
	if m.OnError != nil {
		m.OnError(it.Track, err)
	}
}

func (it *Item) close() {
	if it.src != nil {
		_ = it.src.Close() // read-only: nothing to lose
		it.src = nil
	}
	it.next = -1
	it.staged = it.staged[:0]
}
