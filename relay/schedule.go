package relay

import (
	"math"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/mix"
)

// maxGainDB bounds loudness normalisation: a near-silent track is not
// brought up by 40 dB, a very loud one not cut by more than this either.
const maxGainDB = 24

// skipFade is the longest fade a skip gets: the owner wants the next
// track now.
const skipFade = time.Second

// rotation slots jingles in between music tracks.
type rotation struct {
	tracks []onair.Track
	next   int // index of the next jingle
	since  int // music tracks since the last jingle
}

// pick returns the jingle due after the music played so far, if any.
func (r *rotation) pick(every int) (onair.Track, bool) {
	if every <= 0 || len(r.tracks) == 0 || r.since < every {
		return onair.Track{}, false
	}
	t := r.tracks[r.next%len(r.tracks)]
	r.next = (r.next + 1) % len(r.tracks)
	r.since = 0
	return t, true
}

// splitKinds separates music from jingles, keeping their order.
func splitKinds(tracks []onair.Track) (music, jingles []onair.Track) {
	for _, t := range tracks {
		if t.Kind == onair.KindJingle {
			jingles = append(jingles, t)
		} else {
			music = append(music, t)
		}
	}
	return music, jingles
}

// advance starts the next item at s.next: track id when not 0, else what
// the rotation and the queue say. When nothing follows, the current item
// plays to its end and the station ends there.
func (s *station) advance(id int64) bool {
	for range s.queue.Len() + len(s.jingles.tracks) + 1 {
		t, source, ok := s.pick(id)
		id = 0
		if !ok {
			break
		}
		if s.begin(t, source) {
			s.failRun = 0
			return true
		}
		s.failRun++
		if s.failRun > s.queue.Len()+len(s.jingles.tracks) {
			s.log.Warn("no track gives any audio; stopping")
			return false
		}
	}
	if s.cur != nil && s.cur.End() > s.pos {
		s.ending = true
		s.next = s.cur.End()
		return true
	}
	return false
}

// pick chooses what plays next.
func (s *station) pick(id int64) (onair.Track, string, bool) {
	if id != 0 {
		for _, t := range s.jingles.tracks {
			if t.ID == id {
				return t, onair.SourceJingle, true
			}
		}
		if t, ok := s.queue.Start(id); ok {
			s.jingles.since++
			return t, onair.SourcePlaylist, true
		}
	}
	if t, ok := s.jingles.pick(s.audio.JingleEvery); ok {
		return t, onair.SourceJingle, true
	}
	if t, ok := s.queue.Next(); ok {
		s.jingles.since++
		return t, onair.SourcePlaylist, true
	}
	if len(s.jingles.tracks) > 0 && s.queue.Len() == 0 {
		// A station of jingles only plays them in turn.
		t := s.jingles.tracks[s.jingles.next%len(s.jingles.tracks)]
		s.jingles.next++
		return t, onair.SourceJingle, true
	}
	return onair.Track{}, "", false
}

// begin puts t on the timeline at s.next and announces it: its fade-in
// runs under the previous item's fade-out, and its title is on air from
// the fade-in's first frame.
func (s *station) begin(t onair.Track, source string) bool {
	cueIn, cueOut := time.Duration(0), t.Duration
	if a := t.Analysis; a != nil && a.CueOut > a.CueIn {
		cueIn, cueOut = a.CueIn, min(a.CueOut, t.Duration)
	}
	length := s.clk.frames(cueOut - cueIn)
	if length <= 0 || t.SampleRate <= 0 {
		s.log.Warn("track has no audio to play; skipping it", "track", t.ID)
		return false
	}
	fade := s.clk.frames(s.audio.Crossfade)
	it := &mix.Item{
		Track:   t,
		Start:   s.next,
		Length:  length,
		FadeOut: min(fade, length/2),
		Gain:    s.gain(t),
		CueIn:   int64(cueIn) * int64(t.SampleRate) / int64(time.Second),
	}
	if s.cur != nil && s.cur.End() > it.Start {
		it.FadeIn = min(s.cur.End()-it.Start, length/2)
	}
	s.mix.Add(it)
	s.cur = it
	s.next = it.End() - it.FadeOut
	np := &onair.NowPlaying{
		TrackID:   t.ID,
		Title:     t.Title,
		Artist:    t.Artist,
		Album:     t.Album,
		Duration:  cueOut - cueIn,
		StartedAt: s.clk.wall(it.Start),
		Source:    source,
		HasArt:    t.ArtMIME != "",
	}
	s.mu.Lock()
	np.Show = s.info.Show
	s.playing = np
	s.mu.Unlock()
	s.setTitle(newTitle(copyNP(np)))
	if s.announce {
		s.r.publish(onair.Event{Kind: onair.EventMetadata, Station: s.slug, NowPlaying: copyNP(np)})
	}
	return true
}

// setTitle puts t on air from the current position on, for every output.
func (s *station) setTitle(t *title) {
	s.prevTitle, s.title = s.title, t
	if s.recent != nil {
		s.recent.setTitle(s.pos, t)
	}
	for _, e := range s.encoders() {
		e.title(t)
	}
}

// gain is the linear gain that brings t to the loudness target.
func (s *station) gain(t onair.Track) float32 {
	if !s.audio.LoudnessEnabled || t.Analysis == nil {
		return 1
	}
	db := s.audio.LoudnessTarget - t.Analysis.Loudness
	db = max(-maxGainDB, min(maxGainDB, db))
	return float32(math.Pow(10, db/20))
}

// cut ends the current item at the current position with a short fade, so
// that the next one starts now.
func (s *station) cut() {
	s.cutWith(s.clk.frames(min(s.audio.Crossfade, skipFade)))
}

// cutWith ends the current item fade frames from now.
func (s *station) cutWith(fade int64) {
	s.ending = false
	if s.cur == nil {
		s.next = s.pos
		return
	}
	it := s.cur
	k := s.pos - it.Start // frames of it already decided
	if k >= it.Length {
		s.next = s.pos
		return
	}
	fade = min(fade, it.Length-k)
	if fade < it.FadeOut || k+fade < it.Length-it.FadeOut {
		it.Length = k + fade
		it.FadeOut = fade
	}
	s.next = s.pos
}

// nextTrack moves to the track after the current one now. While a live
// source has the air there is nothing to skip.
func (s *station) nextTrack() bool {
	if s.live != nil {
		return true
	}
	s.cut()
	return s.advance(0)
}

// startAt moves to track id (0: the queue's first) now; while a live
// source has the air, the playlist resumes there when it goes.
func (s *station) startAt(id int64) bool {
	if s.live != nil {
		s.queue.Start(id)
		return true
	}
	s.cut()
	if id == 0 {
		if t, ok := s.queue.Start(0); ok {
			id = t.ID
		}
	}
	return s.advance(id)
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
		s.setTitle(newTitle(copyNP(np)))
	}
	s.r.publish(onair.Event{Kind: onair.EventMetadata, Station: s.slug, NowPlaying: copyNP(np)})
	return true
}

// setPlaylist takes a new play order; when the playing track is gone the
// station moves on at once.
func (s *station) setPlaylist(tracks []onair.Track, shuffle, loop bool) bool {
	music, jingles := splitKinds(tracks)
	s.queue.SetTracks(music)
	s.queue.SetShuffle(shuffle)
	s.queue.SetLoop(loop)
	s.jingles.tracks = jingles
	if s.jingles.next >= len(jingles) {
		s.jingles.next = 0
	}
	if s.cur == nil || s.live != nil {
		return true
	}
	for _, t := range tracks {
		if t.ID == s.cur.Track.ID {
			if s.ending {
				// Something may follow now.
				s.ending = false
			}
			return true
		}
	}
	return s.nextTrack()
}

// setAudio applies new audio settings from the next track on; the MP3
// bitrate applies when that mount's encoder next starts.
func (s *station) setAudio(a onair.AudioSettings) bool {
	a.SampleRate = s.rate
	s.audio = a
	if mp3, ok := s.mounts[mountMP3].enc.(*mp3Encoder); ok && a.MP3Bitrate > 0 {
		mp3.setBitrate(a.MP3Bitrate)
		if !s.mounts[mountMP3].on {
			mp3.apply() // nobody hears it: the next listener gets the new one
		}
	}
	s.mu.Lock()
	s.info.Audio = a
	s.mu.Unlock()
	return true
}
