package relay

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/mix"
	"github.com/onairfm/onair/playlist"
)

// StationInfo is what listeners are told about a station: ICY headers and
// the status page.
type StationInfo struct {
	Slug        string
	Name        string
	Description string
	Genre       string
	Show        string
	// Audio is how the station's mix sounds and is encoded.
	Audio onair.AudioSettings
}

// PlayOptions say how a station plays its tracks.
type PlayOptions struct {
	Shuffle bool
	Loop    bool
	// StartTrackID is the track to begin with; 0 starts at the beginning.
	StartTrackID int64
}

// station is one live station: a goroutine that owns the playout clock,
// the timeline of what plays, the mix and the encoders, and takes commands
// through a channel so that nothing else ever touches that state.
//
// The timeline is decided whether or not anyone listens: tracks start and
// end, titles change and events go out on the clock. The mix is rendered,
// and each encoder runs, only while some output has a listener; a station
// nobody hears reads no file and encodes nothing.
type station struct {
	r      *Relay
	slug   string
	cmds   chan func() bool // false: the station has nothing left to play
	ctx    context.Context  // ends when the station stops
	cancel context.CancelFunc
	done   chan struct{}
	start  time.Time
	log    *slog.Logger
	webrtc WebRTCTrack   // nil when WebRTC is off
	wake   chan struct{} // a listener came or went: look at the outputs
	// announce is set once the station's start was published; track
	// changes before that are part of the start.
	announce bool
	rate     int // the mix's sample rate, fixed while live
	// replica stations play another node's station: no clock, no mix;
	// their rings and track are fed by Feed and FeedPacket.
	replica bool

	mu        sync.Mutex
	info      StationInfo
	playing   *onair.NowPlaying
	listeners map[*listener]conn
	mounts    [2]*mount // by mountKind
	stopped   bool      // no new listeners
	source    *onair.LiveSource

	bitrate     atomic.Int64 // of the MP3 mount, for icy-br
	httpCount   atomic.Int64
	webrtcCount atomic.Int64
	wg          sync.WaitGroup // listener goroutines

	// Owned by the run goroutine.
	audio     onair.AudioSettings
	queue     *playlist.Queue // music, in play order
	jingles   rotation
	clk       *clock
	mix       mix.Mixer
	pos       int64     // stream frames decided so far
	cur       *mix.Item // the item whose title is on air
	next      int64     // frame at which the next item starts
	ending    bool      // nothing follows cur: the station ends at next
	title     *title
	prevTitle *title  // the title before, while its audio may be in a burst
	awake     bool    // rendering: some output is on
	recent    *recent // the last burst of the mix, while awake
	rtc       *rtcEncoder
	rtcOn     bool
	flushed   int64 // frame of the last flush to HTTP listeners
	block     []float32
	failRun   int // tracks in a row that could not be opened
	// A live source on air: its feed, its item in the mix, and a channel
	// closed when it loses the air.
	live      *Feed
	liveItem  *mix.Item
	liveEnded chan struct{}
}

// blockFrames is the most the mix renders at once; 20 ms at 48 kHz, so
// a WebRTC packet goes out as soon as its audio is due.
const blockFrames = 960

// run plays until the station's context ends or nothing is left to play.
func (s *station) run() {
	ctx := s.ctx
	defer close(s.done)
	defer s.mix.Close()
	defer func() {
		if s.live != nil {
			close(s.liveEnded)
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if !s.play(s.r.now()) {
			s.r.ended(s)
			return
		}
		select {
		case <-ctx.Done():
			return
		case f := <-s.cmds:
			if !f() {
				s.r.ended(s)
				return
			}
		case <-timer.C:
		case <-s.wake:
		}
		timer.Reset(s.sleep(s.r.now()))
	}
}

// play decides and renders everything that is due at now. It returns false
// when the station has nothing left to play.
func (s *station) play(now time.Time) bool {
	if lag := s.clk.catchUp(now, s.pos); lag > 0 {
		s.log.Warn("station clock fell behind; skipping ahead", "lag", lag)
	}
	if s.live != nil && s.live.stalled(now) {
		s.log.Info("live source sent nothing; the playlist takes the air back", "after", liveStall)
		if !s.fallback(s.live) {
			return false
		}
	}
	s.outputs()
	target := s.clk.due(now)
	for s.pos < target {
		if s.pos >= s.next {
			if s.ending || !s.advance(0) {
				return false
			}
			continue
		}
		end := min(target, s.next)
		s.render(s.pos, end, true)
		s.pos = end
	}
	if s.clk.dur(s.pos-s.flushed) >= s.r.chunkDuration() {
		s.flush()
	}
	s.mix.Forget(s.pos - s.clk.frames(s.r.burst()+time.Second))
	return true
}

// render mixes frames [from, to) when the station is awake, keeps them for
// bursts and hands them to the encoders that are on.
func (s *station) render(from, to int64, live bool) {
	if !s.awake {
		return
	}
	if s.block == nil {
		s.block = make([]float32, blockFrames*mix.Channels)
	}
	for at := from; at < to; {
		n := min(to-at, blockFrames)
		b := s.block[:n*mix.Channels]
		s.mix.Render(b, at)
		s.recent.push(b, at)
		if live {
			for _, e := range s.encoders() {
				e.pcm(b, at)
			}
		}
		at += n
	}
}

// encoders are the encoders that are on.
func (s *station) encoders() []encoder {
	var out [3]encoder
	n := 0
	for _, m := range s.mounts {
		if m.on {
			out[n] = m.enc
			n++
		}
	}
	if s.rtcOn {
		out[n] = s.rtc
		n++
	}
	return out[:n]
}

// flush publishes what the HTTP encoders made since the last flush.
func (s *station) flush() {
	for _, m := range s.mounts {
		if m.on {
			m.enc.flush()
		}
	}
	s.flushed = s.pos
}

// sleep is how long the clock may sleep: until the next chunk is due to
// HTTP listeners, the next title change, or the next Opus packet while
// WebRTC listeners are bound. An idle station wakes twice a second; a new
// listener wakes it at once through s.wake.
func (s *station) sleep(now time.Time) time.Duration {
	next := s.flushed + s.clk.frames(s.r.chunkDuration())
	next = min(next, s.next)
	if s.rtcOn || s.live != nil {
		// Opus packets, and a live source's audio, go out as they come.
		next = min(next, s.pos+blockFrames*int64(s.rate)/48000)
	}
	return max(s.clk.wall(next).Sub(now), time.Millisecond)
}

// outputs turns encoders on and off as listeners come and go. A mount
// that starts gets the recent mix at once, so its first listener has a
// burst; the mix starts rendering with the first encoder on and stops
// with the last.
func (s *station) outputs() {
	// Other nodes' demand is asked before taking mu: no lock is held
	// across a call into another component.
	var remote [2]bool
	for i := range s.mounts {
		remote[i] = s.r.remoteWants(s.slug, Output(i))
	}
	s.mu.Lock()
	var want [2]bool
	for i, m := range s.mounts {
		want[i] = m.listeners > 0 || remote[i]
		if !want[i] && m.on {
			m.on = false
			m.enc.end()
			m.ring.reset()
		}
	}
	s.mu.Unlock()
	rtc := s.rtc != nil && (s.webrtc.Active() || s.r.remoteWants(s.slug, OutputOpus))
	if s.rtcOn && !rtc {
		s.rtcOn = false
		s.rtc.end()
	}
	// A live source is read as it comes, heard or not, so that its last
	// seconds are there for a new listener's burst.
	if !want[0] && !want[1] && !rtc && s.live == nil {
		if s.awake {
			s.awake = false
			s.mix.Sleep()
			s.recent = nil
		}
		return
	}
	if !s.awake {
		// Only a mount's first listener needs the burst: a station woken
		// for WebRTC alone starts at once, without rendering seconds of
		// the past first (0.1–0.8 s here, most of a Play's wait).
		s.wakeUp(want[0] || want[1])
	}
	for i, m := range s.mounts {
		if want[i] && !m.on {
			m.on = true
			from := s.pos - s.clk.frames(s.r.burst())
			m.enc.begin(max(from, 0))
			s.recent.replay(from, m.enc.title, m.enc.pcm)
			m.enc.flush()
		}
	}
	if rtc && !s.rtcOn {
		s.rtcOn = true
		s.rtc.begin(s.pos)
	}
}

// wakeUp starts rendering. With burst, the last burst of the mix is
// rendered at once into recent, so that the mounts about to start can hand
// it out; without, recent fills from now on, and a mount that starts
// later hands out what it holds by then.
func (s *station) wakeUp(burst bool) {
	s.awake = true
	s.recent = newRecent(s.clk.frames(s.r.burst()))
	from := max(s.pos-s.clk.frames(s.r.burst()), 0)
	if !burst {
		from = s.pos
	}
	// Titles in force over the burst: the current item's, and the one
	// before it when it started inside the burst.
	if s.cur != nil && s.cur.Start > from && s.prevTitle != nil {
		s.recent.setTitle(from, s.prevTitle)
		s.recent.setTitle(s.cur.Start, s.title)
	} else {
		s.recent.setTitle(from, s.title)
	}
	s.render(from, s.pos, false)
}

// do runs f on the station goroutine and waits for it. f returns false
// when the station has nothing left to play, which stops it. do returns
// ErrNotLive when the station stopped first.
func (s *station) do(f func() bool) error {
	if s.replica {
		return ErrReplica
	}
	ran := make(chan struct{})
	select {
	case s.cmds <- func() bool { defer close(ran); return f() }:
	case <-s.done:
		return ErrNotLive
	}
	select {
	case <-ran:
		return nil
	case <-s.done:
		return ErrNotLive
	}
}

// nudge wakes the station goroutine to look at its outputs.
func (s *station) nudge() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (s *station) nowPlaying() *onair.NowPlaying {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyNP(s.playing)
}

func (s *station) stationInfo() StationInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// listenerCounts is the station's listeners on every node.
func (s *station) listenerCounts() onair.Listeners {
	l := s.localCounts()
	if s.r.Nodes != nil {
		o := s.r.Nodes.Listeners(s.slug)
		l.HTTP += o.HTTP
		l.WebRTC += o.WebRTC
	}
	return l
}

// localCounts is the station's listeners on this node.
func (s *station) localCounts() onair.Listeners {
	return onair.Listeners{HTTP: int(s.httpCount.Load()), WebRTC: int(s.webrtcCount.Load())}
}

func (s *station) publishListeners() {
	s.r.publish(onair.Event{Kind: onair.EventListeners, Station: s.slug, Listeners: s.listenerCounts()})
}

func copyNP(np *onair.NowPlaying) *onair.NowPlaying {
	if np == nil {
		return nil
	}
	cp := *np
	return &cp
}

func (s *station) liveSource() *onair.LiveSource {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.source == nil {
		return nil
	}
	src := *s.source
	return &src
}
