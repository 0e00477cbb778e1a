package relay

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/mix"
)

// Live timing. A source takes the air within takeoverFade of connecting
// (plus its prebuffer), and gives it back when it goes or stalls.
const (
	// takeoverFade is the crossfade between the playlist and a live
	// source, both ways.
	takeoverFade = 500 * time.Millisecond
	// liveStall is how long a source may send no audio before the
	// playlist takes the air back.
	liveStall = 5 * time.Second
	// livePrebuffer is how much audio a source's feed holds before it
	// starts to sound: enough to ride out network jitter at the 20 ms
	// steps a live station renders in. A source that sends in bursts gets
	// more (see Feed.prebuffer).
	livePrebuffer = 120 * time.Millisecond
	// liveMaxPrebuffer bounds that: ffmpeg's Ogg muxer sends a page a
	// second, so its sources need a little over one.
	liveMaxPrebuffer = 1500 * time.Millisecond
	// liveMaxBuffer bounds a feed: a source that sends faster than real
	// time has its oldest audio dropped, so latency and memory stay
	// bounded.
	liveMaxBuffer = 3 * time.Second
	// burstQuiet separates two bursts of a source's audio.
	burstQuiet = 50 * time.Millisecond
	// liveTrimAfter is how long a feed may hold more than twice its
	// prebuffer all the time before the excess is dropped.
	liveTrimAfter = 2 * time.Second
)

// ErrSourceBusy is returned when a station already has a live source.
var ErrSourceBusy = onair.Errorf(onair.EConflict, "Mountpoint in use")

// Feed carries a live source's audio into its station's mix. Its producer
// (a source client's connection, a WHIP track) writes decoded PCM as it
// arrives, at the rate and channels given to GoLive; the station reads it
// on its own clock. Write never blocks the producer and never lets the
// buffer grow past a second.
type Feed struct {
	s    *station
	src  onair.LiveSource
	rate int
	ch   int

	mu       sync.Mutex
	buf      []float32
	primed   bool          // the prebuffer filled: audio flows
	flowed   bool          // primed once: from then on waits are the source's
	gap      time.Duration // longest wait for audio with the feed empty
	burst    int           // frames that came together (within burstQuiet)
	burstAt  time.Time     // when they started to come
	window   time.Time     // start of the window low is the low water of
	low      int           // the fewest samples held after a read since window
	last     time.Time     // last Write
	closed   bool
	dropped  int64 // frames dropped for a producer ahead of the clock
	underrun int64 // frames of silence the clock had to play
	endOnce  sync.Once
}

// GoLive gives station slug's air to a live source whose audio comes
// through the returned Feed at rate Hz with channels channels. The
// playlist fades out as the source fades in; Close gives the air back.
// A station that already has a source answers ErrSourceBusy.
func (r *Relay) GoLive(slug string, src onair.LiveSource, rate, channels int) (*Feed, error) {
	if channels != 1 && channels != 2 || rate < 8000 || rate > 192000 {
		return nil, fmt.Errorf("relay: live source of %d Hz, %d channels: %w", rate, channels, ErrLiveFormat)
	}
	s := r.get(slug)
	if s == nil {
		return nil, ErrNotLive
	}
	if src.ConnectedAt.IsZero() {
		src.ConnectedAt = r.now()
	}
	f := &Feed{s: s, src: src, rate: rate, ch: channels, last: r.now()}
	var busy bool
	err := s.do(func() bool {
		if s.live != nil {
			busy = true
			return true
		}
		s.takeover(f)
		return true
	})
	if err != nil {
		return nil, err
	}
	if busy {
		return nil, ErrSourceBusy
	}
	r.stats.sourceConnects.Add(1)
	return f, nil
}

// ErrLiveFormat is returned for a live source the mix cannot take.
var ErrLiveFormat = errors.New("relay: unsupported live audio format")

// Write queues interleaved PCM from the source.
func (f *Feed) Write(pcm []float32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	now := f.s.r.now()
	if gap := now.Sub(f.last); f.flowed && gap > f.gap && len(f.buf) == 0 {
		// The source left the feed empty this long: it sends in bursts
		// (Ogg pages), and the prebuffer must cover one.
		f.gap = min(gap, liveMaxPrebuffer)
	}
	// Audio that comes all at once tells the same before the feed runs
	// dry: a source that sends a second in one go will be a second away
	// from its next. Not the first burst: clients send a backlog when they
	// connect, then keep pace.
	if now.Sub(f.last) > burstQuiet {
		f.burst, f.burstAt = 0, now
	}
	f.burst += len(pcm) / f.ch
	d := time.Duration(f.burst) * time.Second / time.Duration(f.rate)
	if f.flowed && d > 2*livePrebuffer && d > 4*now.Sub(f.burstAt) && d > f.gap {
		f.gap = min(d, liveMaxPrebuffer)
	}
	f.last = now
	f.buf = append(f.buf, pcm...)
	if max := f.frames(liveMaxBuffer) * f.ch; len(f.buf) > max {
		drop := len(f.buf) - max
		drop -= drop % f.ch
		f.dropped += int64(drop / f.ch)
		f.buf = f.buf[:copy(f.buf, f.buf[drop:])]
	}
	if !f.primed && len(f.buf) >= f.prebuffer() {
		if !f.flowed {
			f.burst, f.burstAt = 0, now // the backlog of a connect is no burst
		}
		f.primed, f.flowed = true, true
	}
}

// prebuffer is what the feed holds before it sounds, in samples: the
// jitter allowance, or a little more than the longest the source left it
// empty, for a source that sends in bursts.
func (f *Feed) prebuffer() int {
	d := livePrebuffer
	if f.gap > 0 {
		d = max(d, min(f.gap+livePrebuffer/2, liveMaxPrebuffer))
	}
	return f.frames(d) * f.ch
}

// CountBytes adds n to the bytes the source sent, for the metrics.
func (f *Feed) CountBytes(n int) { f.s.r.stats.sourceBytes.Add(int64(n)) }

// SetTitle sets what the station announces while the source is on air,
// as Icecast's updinfo does.
func (f *Feed) SetTitle(artist, title string) error {
	return f.s.do(func() bool {
		if f.s.live == f {
			f.s.liveTitle(artist, title)
		}
		return true
	})
}

// Close gives the air back to the playlist. It is safe to call more than
// once and after the station stopped.
func (f *Feed) Close() {
	f.endOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		f.s.r.stats.sourceDisconnects.Add(1)
		_ = f.s.do(func() bool { return f.s.fallback(f) }) // a stopped station has nothing to give back
	})
}

// Done is closed when the source lost the air for another reason than its
// own Close: it stalled, or the station stopped.
func (f *Feed) Done() <-chan struct{} { return f.s.liveDone(f) }

func (f *Feed) frames(d time.Duration) int {
	return int(int64(d) * int64(f.rate) / int64(time.Second))
}

// stalled reports whether the source sent nothing for liveStall.
func (f *Feed) stalled(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return now.Sub(f.last) > liveStall
}

// CountDecodeError counts audio the source sent that did not decode.
func (f *Feed) CountDecodeError() { f.s.r.stats.sourceDecodeErrors.Add(1) }

// The mix reads a feed as a mix.Source (through liveSource).

// SampleRate is the rate of the PCM the producer writes.
func (f *Feed) SampleRate() int { return f.rate }

// Channels is the channel count of the PCM the producer writes.
func (f *Feed) Channels() int { return f.ch }

// SeekFrame does nothing: a live source is where its producer is.
func (f *Feed) SeekFrame(int64) error { return nil }

// Read hands the mix what the source sent, and silence for what did not
// come in time.
func (f *Feed) Read(dst []float32) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(dst) - len(dst)%f.ch
	got := 0
	if f.primed {
		got = copy(dst[:n], f.buf)
		got -= got % f.ch
		f.buf = f.buf[:copy(f.buf, f.buf[got:])]
	}
	if got == 0 && f.closed {
		return 0, io.EOF
	}
	// The clock never waits for a source: what did not come is silence.
	clear(dst[got:n])
	if f.primed && got < n {
		// The source fell behind: play silence until it has a prebuffer
		// again, rather than a stutter of every packet as it comes.
		f.underrun += int64((n - got) / f.ch)
		f.primed = false
	}
	f.trim()
	return n, nil
}

// trim keeps the delay near the prebuffer. What counts is the feed's low
// water over liveTrimAfter: a source that sends in bursts (ffmpeg's Ogg
// muxer sends a page a second) empties its feed between them and needs no
// trim, while a feed that never held less than twice the prebuffer all
// that time (a burst at connect, an upstream stall caught up at once)
// carries a delay that would otherwise stay for the whole show: its oldest
// audio is dropped down to the prebuffer.
func (f *Feed) trim() {
	now := f.s.r.now()
	if f.window.IsZero() || len(f.buf) < f.low {
		f.low = len(f.buf)
	}
	if f.window.IsZero() {
		f.window = now
		return
	}
	if now.Sub(f.window) < liveTrimAfter {
		return
	}
	pre := f.prebuffer()
	if f.low > 2*pre {
		drop := f.low - pre
		drop -= drop % f.ch
		f.dropped += int64(drop / f.ch)
		f.buf = f.buf[:copy(f.buf, f.buf[drop:])]
	}
	f.window, f.low = now, len(f.buf)
}

// liveSource adapts a Feed to mix.Source: the mix closing its item must
// not end the feed, whose producer owns it.
type liveSource struct{ *Feed }

func (l liveSource) Close() error { return nil }

var _ mix.Source = liveSource{}

// takeover puts f on air: the playlist item fades out now, the source
// fades in over it and stays until it goes.
func (s *station) takeover(f *Feed) {
	fade := s.clk.frames(takeoverFade)
	s.cutWith(fade)
	it := &mix.Item{
		Track:  onair.Track{Title: f.src.Streamer},
		Start:  s.pos,
		Length: math.MaxInt64 / 4,
		FadeIn: fade,
		Gain:   1,
		Live:   liveSource{f},
	}
	s.mix.Add(it)
	s.live, s.liveItem, s.liveEnded = f, it, make(chan struct{})
	s.cur = it
	s.next = math.MaxInt64
	s.ending = false
	s.mu.Lock()
	src := f.src
	s.source = &src
	s.mu.Unlock()
	s.liveTitle("", f.src.Streamer)
	s.r.publish(onair.Event{Kind: onair.EventSource, Station: s.slug, Source: &src})
	s.log.Info("live source on air", "kind", f.src.Kind, "streamer", f.src.Streamer)
}

// liveTitle announces what the live source says it plays.
func (s *station) liveTitle(artist, title string) {
	np := &onair.NowPlaying{
		Title:     title,
		Artist:    artist,
		StartedAt: s.clk.wall(s.pos),
		Source:    onair.SourceLive,
	}
	s.mu.Lock()
	np.Show = s.info.Show
	s.playing = np
	s.mu.Unlock()
	s.setTitle(newTitle(copyNP(np)))
	s.r.publish(onair.Event{Kind: onair.EventMetadata, Station: s.slug, NowPlaying: copyNP(np)})
}

// fallback gives the air back to the playlist when f is the source on air:
// the source fades out as the next track fades in.
func (s *station) fallback(f *Feed) bool {
	if s.live != f {
		return true
	}
	it := s.liveItem
	fade := s.clk.frames(takeoverFade)
	it.Length = s.pos - it.Start + fade
	it.FadeOut = fade
	s.live, s.liveItem = nil, nil
	s.mu.Lock()
	s.source = nil
	s.mu.Unlock()
	s.r.publish(onair.Event{Kind: onair.EventSource, Station: s.slug})
	s.log.Info("live source gone; the playlist is back", "streamer", f.src.Streamer)
	s.cur = it
	s.next = s.pos
	ok := s.advance(0)
	// The source is told last, once the station's status says the
	// playlist has the air: whoever it tells may read that status.
	close(s.liveEnded)
	return ok
}

// liveDone is closed when the source f lost the air.
func (s *station) liveDone(f *Feed) <-chan struct{} {
	var ch <-chan struct{}
	if err := s.do(func() bool {
		if s.live == f {
			ch = s.liveEnded
		}
		return true
	}); err != nil || ch == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return ch
}
