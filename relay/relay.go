// Package relay plays live stations and fans their audio out to listeners.
// Each live station has one clock that decides what plays in real time
// whether or not anyone listens; while someone does, the station's mix
// (audio/mix) is encoded once per output: MP3 and Ogg/Opus chunks shared
// by every HTTP listener of a mount, Opus packets written to the station's
// WebRTC track. What happens is published through a small interface:
// relay knows nothing of WebSockets, storage or pion. The WebRTC side
// (package rtc, wired in by cmd/onair) is reached through WebRTCTrack and
// makes its own peers; relay only hears how many are listening.
package relay

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/decode"
	"github.com/onairfm/onair/audio/limiter"
	"github.com/onairfm/onair/audio/mix"
	"github.com/onairfm/onair/playlist"
)

// publisher receives what happens on stations. Publish must not block: it
// is called from the station clocks.
type publisher interface {
	Publish(onair.Event)
}

// Relay runs the live stations. Fill the exported fields, then use it; the
// zero values of the tuning fields are sensible defaults.
type Relay struct {
	MediaDir  string // where track files live
	Publisher publisher
	Logger    *slog.Logger
	Now       func() time.Time

	// Opus configures the per-station encoder for WebRTC listeners.
	Opus OpusConfig
	// WebRTC serves browsers: it makes each live station's track (an
	// *rtc.Server, adapted by cmd/onair). nil leaves stations HTTP-only.
	WebRTC webrtcServer

	// Burst is how much recent audio a new HTTP listener gets at once.
	Burst time.Duration // default 4 s
	// ChunkDuration is how often HTTP listeners are handed new audio.
	// Each hand-over is one write per listener, which on loopback costs
	// about 11 µs of server CPU: 250 ms chunks cost 44-57 µs per
	// listener-second, 500 ms 21-23, 1 s 12-13 (BenchmarkHTTPFanout).
	// Players buffer seconds anyway; 500 ms keeps the flow smooth.
	ChunkDuration time.Duration // default 500 ms
	// MaxLag is how far behind the clock an HTTP listener may fall before
	// it is dropped; it also bounds one write to a listener.
	MaxLag time.Duration // default 10 s
	// SendBuffer, when not 0, sets each HTTP listener's kernel send
	// buffer, bounding the kernel memory a listener that stops reading can
	// hold and how soon it is found to be too slow.
	SendBuffer int
	// PublicURL is the server's address for links given to players;
	// empty uses the address the client asked for.
	PublicURL string
	// OnSession, when set, is told of every HTTP listening session twice:
	// when the listener connects (End zero) and when it leaves (End set,
	// same ID). It is called on the listener's goroutine and must not
	// block. (WebRTC sessions come from rtc.Server.OnSession.)
	OnSession func(onair.ListenSession)

	// Tap, when set, is handed every chunk and Opus packet a station
	// makes (package cluster carries them to other nodes).
	Tap Tap
	// Nodes, when set, tells of the listeners on other nodes: their
	// demand keeps outputs encoding, their counts add to this node's.
	Nodes Nodes
	// OnDemand, when set, is called (on a station goroutine; it must not
	// block) when a replica station's local listeners come or go.
	OnDemand func(slug string)

	stats stats

	mu       sync.Mutex
	stations map[string]*station
	closed   bool
	wg       sync.WaitGroup
}

func (r *Relay) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Relay) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (r *Relay) burst() time.Duration { return orDefault(r.Burst, 4*time.Second) }
func (r *Relay) chunkDuration() time.Duration {
	return orDefault(r.ChunkDuration, 500*time.Millisecond)
}
func (r *Relay) maxLag() time.Duration { return orDefault(r.MaxLag, 10*time.Second) }

// ringSize holds the burst, the allowed lag and some slack, in chunks.
func (r *Relay) ringSize() int {
	return int((r.burst()+r.maxLag())/r.chunkDuration()) + 8
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (r *Relay) publish(ev onair.Event) {
	if r.Publisher != nil {
		r.Publisher.Publish(ev)
	}
}

// Start puts a station on air with the given tracks. When it is already
// live, Start only jumps to opts.StartTrackID if one is given.
func (r *Relay) Start(info StationInfo, tracks []onair.Track, opts PlayOptions) error {
	if s := r.get(info.Slug); s != nil {
		if opts.StartTrackID == 0 {
			return nil
		}
		return s.do(func() bool { return s.startAt(opts.StartTrackID) })
	}
	if len(tracks) == 0 {
		return ErrNoTracks
	}
	s, err := r.newStation(info, tracks, opts)
	if err != nil {
		return err
	}
	if !s.startAt(opts.StartTrackID) {
		s.release()
		return ErrNoTracks
	}
	if added, err := r.register(s); !added {
		return err
	}
	s.announce = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.run()
	}()
	return nil
}

// register makes s the station of its slug and announces it, unless the
// relay closed or a concurrent Start won meanwhile: then s is released
// (and err is ErrClosed when the relay closed). The events go out after
// the lock: never publish while holding it. Until its goroutine runs, a
// Stop of s waits on s.done, which that goroutine closes.
func (r *Relay) register(s *station) (added bool, err error) {
	r.mu.Lock()
	if r.closed || r.stations[s.slug] != nil {
		closed := r.closed
		r.mu.Unlock()
		s.release()
		if closed {
			return false, ErrClosed
		}
		return false, nil
	}
	if r.stations == nil {
		r.stations = map[string]*station{}
	}
	r.stations[s.slug] = s
	r.mu.Unlock()
	r.publish(onair.Event{Kind: onair.EventStarted, Station: s.slug, StartedAt: s.start})
	r.publish(onair.Event{Kind: onair.EventMetadata, Station: s.slug, NowPlaying: s.nowPlaying()})
	r.publish(onair.Event{Kind: onair.EventListeners, Station: s.slug, Listeners: s.listenerCounts()})
	return true, nil
}

// stationShell is what a played station and a replica have alike: its
// context, identity, command and wake channels, and listener table.
func (r *Relay) stationShell(info StationInfo, start time.Time, log *slog.Logger) *station {
	ctx, cancel := context.WithCancel(context.Background())
	return &station{
		ctx:       ctx,
		cancel:    cancel,
		r:         r,
		slug:      info.Slug,
		info:      info,
		cmds:      make(chan func() bool),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		start:     start,
		log:       log,
		listeners: map[*listener]conn{},
	}
}

func (r *Relay) newStation(info StationInfo, tracks []onair.Track, opts PlayOptions) (*station, error) {
	now := r.now()
	a := withAudioDefaults(info.Audio)
	info.Audio = a
	music, jingles := splitKinds(tracks)
	s := r.stationShell(info, now, r.logger().With("station", info.Slug))
	cancel := s.cancel
	s.audio = a
	s.rate = a.SampleRate
	s.queue = playlist.New(music, opts.Shuffle, opts.Loop, nil)
	s.jingles = rotation{tracks: jingles}
	s.clk = newClock(now, a.SampleRate, 2*time.Second)
	s.mix = mix.Mixer{
		Rate:    a.SampleRate,
		Open:    r.opener(),
		Limiter: limiter.New(a.SampleRate, mix.Channels, ceilingDBTP),
		OnError: func(t onair.Track, err error) {
			s.log.Warn("track cannot be played; it sounds as silence", "track", t.ID, "err", err)
		},
	}
	mp3Ring, oggRing := newRing(r.ringSize()), newRing(r.ringSize())
	mp3, err := newMP3Encoder(mp3Ring, a.SampleRate, a.MP3Bitrate, &s.bitrate)
	if err != nil {
		cancel()
		return nil, err
	}
	ogg, err := newOggEncoder(oggRing, a.SampleRate, r.Opus)
	if err != nil {
		cancel()
		return nil, err
	}
	s.mounts = [2]*mount{
		{kind: mountMP3, ring: mp3Ring, enc: mp3},
		{kind: mountOgg, ring: oggRing, enc: ogg},
	}
	if r.WebRTC != nil {
		t, err := r.WebRTC.NewTrack(info.Slug, webrtcPeers{s})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("relay: webrtc track for %s: %w", info.Slug, err)
		}
		enc, err := newRTCEncoder(t, a.SampleRate, r.Opus)
		if err != nil {
			t.Close()
			cancel()
			return nil, err
		}
		s.webrtc, s.rtc = t, enc
	}
	s.tapOutputs()
	return s, nil
}

// ceilingDBTP is the true-peak ceiling of every station's mix.
const ceilingDBTP = -1

// withAudioDefaults fills what a station's settings leave unset.
func withAudioDefaults(a onair.AudioSettings) onair.AudioSettings {
	if a.SampleRate != 44100 && a.SampleRate != 48000 {
		a.SampleRate = 44100
	}
	if a.MP3Bitrate <= 0 {
		a.MP3Bitrate = 128000
	}
	return a
}

// opener opens tracks from the media directory.
func (r *Relay) opener() mix.Opener {
	return func(t onair.Track) (mix.Source, error) {
		format := t.Format
		if format == "" {
			format = onair.FormatMP3
		}
		src, err := decode.Open(filepath.Join(r.MediaDir, filepath.Base(t.Path)), format)
		if err != nil {
			return nil, fmt.Errorf("relay: open track %d: %w", t.ID, err)
		}
		return src, nil
	}
}

// Stop takes a station off air and disconnects its listeners.
func (r *Relay) Stop(slug string) error {
	s := r.remove(slug)
	if s == nil {
		return ErrNotLive
	}
	s.shutdown()
	r.publish(onair.Event{Kind: onair.EventStopped, Station: slug})
	return nil
}

// ended is called by a station that ran out of tracks.
func (r *Relay) ended(s *station) {
	r.mu.Lock()
	if r.stations[s.slug] == s {
		delete(r.stations, s.slug)
	} else {
		s = nil
	}
	r.mu.Unlock()
	if s == nil {
		return
	}
	s.log.Info("station ran out of tracks; off air")
	// The clock goroutine is the caller: release everything else without
	// waiting for it, on a goroutine Close waits for. The station goroutine
	// still counts in r.wg here, so Add cannot race Close's Wait to zero.
	s.cancel()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.disconnect()
	}()
	r.publish(onair.Event{Kind: onair.EventStopped, Station: s.slug})
}

func (r *Relay) remove(slug string) *station {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stations[slug]
	delete(r.stations, slug)
	return s
}

func (r *Relay) get(slug string) *station {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stations[slug]
}

// Skip moves a live station to its next track now.
func (r *Relay) Skip(slug string) error {
	s := r.get(slug)
	if s == nil {
		return ErrNotLive
	}
	return s.do(s.nextTrack)
}

// SetMetadata changes what a live station announces until its next track.
func (r *Relay) SetMetadata(slug string, md onair.MetadataUpdate) error {
	s := r.get(slug)
	if s == nil {
		return ErrNotLive
	}
	return s.do(func() bool { return s.setMetadata(md) })
}

// SetPlaylist gives a live station a new play order and play options. When
// the playing track is no longer in it, the station moves on at once.
func (r *Relay) SetPlaylist(slug string, tracks []onair.Track, shuffle, loop bool) error {
	s := r.get(slug)
	if s == nil {
		return ErrNotLive
	}
	return s.do(func() bool { return s.setPlaylist(tracks, shuffle, loop) })
}

// SetAudio changes how a live station sounds: crossfade, loudness and
// jingles apply from the next track on. The MP3 bitrate applies when the
// MP3 mount's encoder next starts, and the sample rate when the station
// next goes live: changing them under connected players would break them.
// A station that is not live gets ErrNotLive.
func (r *Relay) SetAudio(slug string, a onair.AudioSettings) error {
	s := r.get(slug)
	if s == nil {
		return ErrNotLive
	}
	return s.do(func() bool { return s.setAudio(a) })
}

// SetInfo updates the name, description and genre a live station shows to
// new listeners.
func (r *Relay) SetInfo(info StationInfo) {
	if s := r.get(info.Slug); s != nil {
		s.mu.Lock()
		info.Show = s.info.Show
		s.info = info
		s.mu.Unlock()
	}
}

// Status returns the state of a station; a station that is not on air is
// simply not Live.
func (r *Relay) Status(slug string) onair.StationStatus {
	s := r.get(slug)
	if s == nil {
		return onair.StationStatus{}
	}
	return onair.StationStatus{Live: true, StartedAt: s.start, NowPlaying: s.nowPlaying(), Listeners: s.listenerCounts(), Source: s.liveSource()}
}

// Close stops every station without announcing it: they were live when the
// server went down and will be live again when it comes back.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	all := r.stations
	r.stations = nil
	r.mu.Unlock()
	for _, s := range all {
		s.shutdown()
	}
	r.wg.Wait()
	return nil
}

// release frees what a station that never ran holds.
func (s *station) release() {
	s.cancel()
	s.mix.Close()
	s.closeWebRTC()
}

// shutdown stops the clock, disconnects every listener and waits for it all.
func (s *station) shutdown() {
	s.cancel()
	<-s.done
	s.disconnect()
}

// disconnect ends every listener of a station that is no longer playing.
func (s *station) disconnect() {
	for _, m := range s.mounts {
		m.ring.close()
	}
	s.mu.Lock()
	s.stopped = true
	for _, c := range s.listeners {
		// Unblocks a listener stuck writing to a client that stopped
		// reading.
		_ = c.SetWriteDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()
	s.closeWebRTC()
	s.wg.Wait()
}
