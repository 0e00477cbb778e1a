package mix

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onairfm/onair"
)

// sine is a Source of a sine tone: amp at freq for frames frames.
type sine struct {
	rate, ch int
	freq     float64
	amp      float32
	frames   int64
	pos      int64
	closed   *int
}

func (s *sine) SampleRate() int { return s.rate }
func (s *sine) Channels() int   { return s.ch }
func (s *sine) SeekFrame(f int64) error {
	s.pos = f
	return nil
}
func (s *sine) Close() error {
	if s.closed != nil {
		*s.closed++
	}
	return nil
}
func (s *sine) Read(dst []float32) (int, error) {
	n := 0
	for n+s.ch <= len(dst) && s.pos < s.frames {
		v := s.amp * float32(math.Sin(2*math.Pi*s.freq*float64(s.pos)/float64(s.rate)))
		for c := range s.ch {
			dst[n+c] = v
		}
		n += s.ch
		s.pos++
	}
	if s.pos >= s.frames {
		return n, io.EOF
	}
	return n, nil
}

// tones opens track i as a tone of 1000*ID Hz at the track's rate.
func tones(closed *int) Opener {
	return func(t onair.Track) (Source, error) {
		if t.ID == 99 {
			return nil, errors.New("no such file")
		}
		ch := t.Channels
		if ch == 0 {
			ch = 2
		}
		return &sine{rate: t.SampleRate, ch: ch, freq: 1000 * float64(t.ID), amp: 0.5,
			frames: int64(t.SampleRate) * 10, closed: closed}, nil
	}
}

func rms(b []float32) float64 {
	var sum float64
	for _, x := range b {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(len(b)))
}

func TestCrossfadeKeepsPowerAndNeverGaps(t *testing.T) {
	const rate = 48000
	m := Mixer{Rate: rate, Open: tones(nil)}
	a := &Item{Track: onair.Track{ID: 1, SampleRate: 44100}, Start: 0, Length: 2 * rate, FadeOut: rate / 2, Gain: 1}
	b := &Item{Track: onair.Track{ID: 2, SampleRate: 22050, Channels: 1}, Start: 2*rate - rate/2, Length: 2 * rate, FadeIn: rate / 2, Gain: 1}
	m.Add(a)
	m.Add(b)
	out := make([]float32, 4*rate*Channels)
	// Rendered in uneven blocks, as a station clock does.
	for at := int64(0); at < 4*rate; {
		n := min(int64(777), 4*rate-at)
		m.Render(out[at*Channels:(at+n)*Channels], at)
		at += n
	}
	// Every 10 ms window up to b's end has the power of one full tone
	// (0.5 amplitude sine: rms 0.354), within a few percent: equal-power
	// fades of uncorrelated tones sum to constant power.
	win := rate / 100
	for w := int64(0); w+int64(win) <= b.End(); w += int64(win) {
		r := rms(out[w*Channels : (w+int64(win))*Channels])
		if r < 0.30 || r > 0.40 {
			t.Fatalf("window at %.3f s: rms %.3f, want about 0.354", float64(w)/rate, r)
		}
	}
}

func TestGainSeekAndRenderAgain(t *testing.T) {
	const rate = 44100
	closed := 0
	m := Mixer{Rate: rate, Open: tones(&closed)}
	it := &Item{Track: onair.Track{ID: 1, SampleRate: rate}, Start: 1000, Length: rate, Gain: 0.5}
	m.Add(it)
	first := make([]float32, 2000*Channels)
	m.Render(first, 1500)
	// Asleep and back: the same range renders the same samples.
	m.Sleep()
	if closed != 1 {
		t.Fatalf("Sleep closed %d sources, want 1", closed)
	}
	again := make([]float32, 2000*Channels)
	m.Render(again, 1500)
	for i := range first {
		if math.Abs(float64(first[i]-again[i])) > 1e-6 {
			t.Fatalf("sample %d: %v then %v", i, first[i], again[i])
		}
	}
	if r := rms(first); math.Abs(r-0.25/math.Sqrt2) > 0.01 {
		t.Fatalf("rms %.3f: the gain of 0.5 is not applied", r)
	}
	// Before the item's start: silence.
	pre := make([]float32, 500*Channels)
	m.Render(pre, 0)
	if rms(pre) != 0 {
		t.Fatal("audio before the item's start")
	}
	m.Forget(rate + 1000)
	if len(m.Items()) != 0 {
		t.Fatal("Forget kept an item that ended")
	}
}

func TestUnplayableItemIsSilentAndReportedOnce(t *testing.T) {
	var errs int
	m := Mixer{Rate: 48000, Open: tones(nil), OnError: func(onair.Track, error) { errs++ }}
	m.Add(&Item{Track: onair.Track{ID: 99, SampleRate: 48000}, Length: 48000, Gain: 1})
	b := make([]float32, 960*Channels)
	for at := int64(0); at < 48000; at += 960 {
		m.Render(b, at)
		if rms(b) != 0 {
			t.Fatal("a broken item made sound")
		}
	}
	if errs != 1 {
		t.Fatalf("OnError called %d times, want 1", errs)
	}
}

// envelope is the fade envelope as defined, a sin and a cos per frame:
// what fadeGains computes by rotation.
func envelope(it *Item, k int64) float32 {
	g := 1.0
	if k < it.FadeIn {
		g *= math.Sin(math.Pi / 2 * (float64(k) + 0.5) / float64(it.FadeIn))
	}
	if out := it.Length - it.FadeOut; k >= out && it.FadeOut > 0 {
		g *= math.Cos(math.Pi / 2 * (float64(k-out) + 0.5) / float64(it.FadeOut))
	}
	return float32(g)
}

func TestFadeGainsMatchEnvelope(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for n := range 2000 {
		it := &Item{Length: 1 + rng.Int64N(400000), Gain: float32(0.1 + rng.Float64()*3)}
		if n%4 != 0 {
			it.FadeIn = rng.Int64N(it.Length + 1)
		}
		if n%3 != 0 {
			it.FadeOut = rng.Int64N(it.Length + 1)
		}
		g := make([]float32, 1+rng.IntN(fadeChunk))
		k := rng.Int64N(it.Length)
		if n%2 == 0 && it.FadeOut > 0 { // around the fade-out's start
			k = max(0, it.Length-it.FadeOut-int64(rng.IntN(len(g))))
		}
		g = g[:min(int64(len(g)), it.Length-k)]
		it.fadeGains(k, g)
		for f, got := range g {
			want := it.Gain * envelope(it, k+int64(f))
			if math.Abs(float64(got-want)) > 1e-6 {
				t.Fatalf("item %+v frame %d: gain %.9f, want %.9f", it, k+int64(f), got, want)
			}
		}
	}
}

// pcmSource plays a fixed buffer of stereo frames, over and over.
type pcmSource struct {
	rate int
	pcm  []float32
	pos  int
}

func (s *pcmSource) SampleRate() int { return s.rate }
func (s *pcmSource) Channels() int   { return 2 }
func (s *pcmSource) SeekFrame(f int64) error {
	s.pos = int(f*2) % len(s.pcm)
	return nil
}
func (s *pcmSource) Close() error { return nil }
func (s *pcmSource) Read(dst []float32) (int, error) {
	n := 0
	for n < len(dst)-1 {
		c := copy(dst[n:], s.pcm[s.pos:])
		c -= c % 2
		n += c
		s.pos = (s.pos + c) % len(s.pcm)
	}
	return n, nil
}

// BenchmarkRenderCrossfade is the mixer's own work during a crossfade:
// two items at the mix rate (no resampling, no limiter), both fading over
// the whole of the 10 s rendered, in 1024-frame blocks.
func BenchmarkRenderCrossfade(b *testing.B) {
	const rate = 44100
	pcm := make([]float32, 2*rate)
	for i := range pcm {
		pcm[i] = float32(math.Sin(float64(i) * 0.01))
	}
	open := func(onair.Track) (Source, error) { return &pcmSource{rate: rate, pcm: pcm}, nil }
	out := make([]float32, 1024*Channels)
	for b.Loop() {
		m := Mixer{Rate: rate, Open: open}
		m.Add(&Item{Track: onair.Track{ID: 1}, Length: 10 * rate, FadeOut: 10 * rate, Gain: 0.8})
		m.Add(&Item{Track: onair.Track{ID: 2}, Length: 10 * rate, FadeIn: 10 * rate, Gain: 1.2})
		for at := int64(0); at < 10*rate; at += 1024 {
			m.Render(out, at)
		}
		m.Close()
	}
}

// A forgotten item's resampler and buffers serve later items: what those
// render is exactly what a fresh mixer renders for them.
func TestForgottenItemsBuffersReused(t *testing.T) {
	const rate = 48000
	later := func() []*Item {
		return []*Item{
			{Track: onair.Track{ID: 2, SampleRate: 22050}, Start: rate, Length: rate, FadeIn: rate / 4, Gain: 0.7},
			{Track: onair.Track{ID: 3, SampleRate: 44100, Channels: 1}, Start: rate, Length: rate, Gain: 0.5},
		}
	}
	render := func(m *Mixer) []float32 {
		out := make([]float32, rate*Channels)
		for at := int64(rate); at < 2*rate; at += 1000 {
			m.Render(out[(at-rate)*Channels:(at-rate+1000)*Channels], at)
		}
		return out
	}
	used := &Mixer{Rate: rate, Open: tones(nil)}
	used.Add(&Item{Track: onair.Track{ID: 1, SampleRate: 44100}, Length: rate / 2, Gain: 1})
	used.Add(&Item{Track: onair.Track{ID: 4, SampleRate: 32000, Channels: 1}, Length: rate / 2, Gain: 1})
	used.Render(make([]float32, rate/2*Channels), 0)
	used.Forget(rate)
	if len(used.spare.res) != 2 || len(used.spare.bufs) == 0 {
		t.Fatalf("spare after Forget: %d resamplers, %d buffers", len(used.spare.res), len(used.spare.bufs))
	}
	fresh := &Mixer{Rate: rate, Open: tones(nil)}
	for i, it := range later() {
		used.Add(it)
		fresh.Add(later()[i])
	}
	got, want := render(used), render(fresh)
	if len(used.spare.res) != 0 {
		t.Errorf("%d spare resamplers left unused", len(used.spare.res))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d: %v after reuse, %v fresh", i, got[i], want[i])
		}
	}
}
