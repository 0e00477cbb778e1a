package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/playlist"
	"github.com/onairfm/onair/relay/icy"
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
// the play queue and the encoders, and takes commands through a channel so
// that nothing else ever touches its state.
type station struct {
	r      *Relay
	slug   string
	ring   *ring
	cmds   chan func() bool // false: the station has nothing left to play
	ctx    context.Context  // ends when the station stops
	cancel context.CancelFunc
	done   chan struct{}
	start  time.Time
	log    *slog.Logger
	webrtc *stationTrack // nil when WebRTC is off
	wake   chan struct{} // a peer was bound: time to encode
	// announce is set once the station's start was published; track
	// changes before that are part of the start.
	announce bool

	mu        sync.Mutex
	info      StationInfo
	playing   *onair.NowPlaying
	listeners map[*listener]conn
	stopped   bool // no new listeners

	bitrate     atomic.Int64 // of the playing track, for icy-br
	httpCount   atomic.Int64
	webrtcCount atomic.Int64
	wg          sync.WaitGroup // listener goroutines

	// Owned by the run goroutine.
	queue     *playlist.Queue
	src       source
	clk       *clock
	build     chunkBuilder
	flushedAt time.Duration
	frames    int       // frames read from the current track
	emptyRun  int       // tracks in a row that gave no audio
	opus      *opusPath // nil when WebRTC is off
}

// run plays until the station's context ends or nothing is left to play.
func (s *station) run() {
	ctx := s.ctx
	defer close(s.done)
	defer s.src.close()
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

// play releases every frame that is due at now. It returns false when the
// station has nothing left to play.
func (s *station) play(now time.Time) bool {
	if lag := s.clk.catchUp(now); lag > 0 {
		s.log.Warn("station clock fell behind; skipping ahead", "lag", lag)
	}
	for s.clk.due(now) {
		f, err := s.src.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Warn("track read failed; moving on", "track", s.src.track.ID, "err", err)
			}
			if s.frames == 0 {
				s.emptyRun++
			}
			if s.emptyRun > s.queue.Len() {
				s.log.Warn("no track gives any audio; stopping")
				return false
			}
			if !s.nextTrack() {
				return false
			}
			continue
		}
		s.frames++
		s.emptyRun = 0
		at := s.clk.pos()
		s.build.add(f.Data, at, f.Duration())
		s.clk.advance(f.Samples, f.SampleRate)
		if s.opus != nil {
			if err := s.opus.frame(f, at); err != nil {
				s.log.Debug("opus path: frame not decoded", "err", err)
			}
		}
	}
	if s.opus != nil {
		if err := s.opus.send(now.Sub(s.clk.start)); err != nil {
			s.log.Warn("opus encode failed", "err", err)
		}
	}
	if s.clk.pos()-s.flushedAt >= s.r.chunkDuration() {
		s.flush()
	}
	return true
}

// sleep is how long the clock may sleep: until the next chunk is due to
// HTTP listeners, or the next Opus packet while WebRTC listeners are bound.
// An idle station so wakes twice a second instead of fifty times; a new
// peer wakes it at once through s.wake.
func (s *station) sleep(now time.Time) time.Duration {
	next := s.flushedAt + s.r.chunkDuration()
	if s.opus != nil && (s.opus.on || s.webrtc.active()) {
		next = min(next, s.opus.enc.pos+s.opus.enc.dur)
	}
	return max(s.clk.wall(next).Sub(now), time.Millisecond)
}

// flush publishes the frames released since the last flush to the HTTP
// listeners.
func (s *station) flush() {
	if c := s.build.take(); c != nil {
		s.ring.publish(c)
	}
	s.flushedAt = s.clk.pos()
}

// nextTrack moves to the track after the current one.
func (s *station) nextTrack() bool {
	for range s.queue.Len() + 1 {
		t, ok := s.queue.Next()
		if !ok {
			return false
		}
		if s.begin(t) {
			return true
		}
	}
	return false
}

// startAt moves to track id (0: the first) now.
func (s *station) startAt(id int64) bool {
	t, ok := s.queue.Start(id)
	if !ok {
		return false
	}
	if s.begin(t) {
		return true
	}
	return s.nextTrack()
}

// begin opens t and announces it. Its audio follows the previous track's
// last frame with no gap.
func (s *station) begin(t onair.Track) bool {
	if err := s.src.open(t); err != nil {
		s.log.Warn("cannot open track; skipping it", "track", t.ID, "err", err)
		return false
	}
	s.frames = 0
	s.bitrate.Store(int64(t.Bitrate))
	if s.opus != nil {
		s.opus.newTrack()
	}
	s.mu.Lock()
	np := &onair.NowPlaying{
		TrackID:   t.ID,
		Title:     t.Title,
		Artist:    t.Artist,
		Album:     t.Album,
		Show:      s.info.Show,
		Duration:  t.Duration,
		StartedAt: s.clk.wall(s.clk.pos()),
	}
	s.playing = np
	s.mu.Unlock()
	s.build.setBlock(icy.Block(onair.DisplayTitle(np.Artist, np.Title)))
	if s.announce {
		s.r.publish(onair.Event{Kind: onair.EventMetadata, Station: s.slug, NowPlaying: copyNP(np)})
	}
	return true
}

// setMetadata applies an owner's change to what the station announces,
// until the next track.
func (s *station) setMetadata(md onair.MetadataUpdate) bool {
	s.mu.Lock()
	if md.Show != nil {
		s.info.Show = *md.Show
	}
	var np *onair.NowPlaying
	if s.playing != nil {
		cp := *s.playing
		if md.Title != nil {
			cp.Title = *md.Title
		}
		if md.Artist != nil {
			cp.Artist = *md.Artist
		}
		cp.Show = s.info.Show
		s.playing = &cp
		np = &cp
	}
	s.mu.Unlock()
	if np == nil {
		return true
	}
	if md.Title != nil || md.Artist != nil {
		s.build.setBlock(icy.Block(onair.DisplayTitle(np.Artist, np.Title)))
	}
	s.r.publish(onair.Event{Kind: onair.EventMetadata, Station: s.slug, NowPlaying: copyNP(np)})
	return true
}

// setPlaylist takes a new play order; when the playing track is gone the
// station moves on at once.
func (s *station) setPlaylist(tracks []onair.Track, shuffle, loop bool) bool {
	s.queue.SetTracks(tracks)
	s.queue.SetShuffle(shuffle)
	s.queue.SetLoop(loop)
	if _, ok := s.queue.Current(); !ok {
		return s.nextTrack()
	}
	return true
}

// do runs f on the station goroutine and waits for it. f returns false
// when the station has nothing left to play, which stops it. do returns
// ErrNotLive when the station stopped first.
func (s *station) do(f func() bool) error {
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

func (s *station) listenerCounts() onair.Listeners {
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
