package control

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/onairfm/onair"
)

// AudioPatch changes some of a station's audio settings; nil fields stay.
type AudioPatch struct {
	SampleRate      *int
	MP3Bitrate      *int
	CrossfadeMS     *int
	LoudnessEnabled *bool
	LoudnessTarget  *float64
	JingleEvery     *int
}

func (p *AudioPatch) apply(a *onair.AudioSettings) {
	if p.SampleRate != nil {
		a.SampleRate = *p.SampleRate
	}
	if p.MP3Bitrate != nil {
		a.MP3Bitrate = *p.MP3Bitrate
	}
	if p.CrossfadeMS != nil {
		a.Crossfade = time.Duration(*p.CrossfadeMS) * time.Millisecond
	}
	if p.LoudnessEnabled != nil {
		a.LoudnessEnabled = *p.LoudnessEnabled
	}
	if p.LoudnessTarget != nil {
		a.LoudnessTarget = *p.LoudnessTarget
	}
	if p.JingleEvery != nil {
		a.JingleEvery = *p.JingleEvery
	}
}

// MinCueSpan is the shortest audible part cue points may leave: what
// ingest accepts as the shortest track.
const MinCueSpan = 500 * time.Millisecond

// TrackPatch is an owner's change to a track; nil fields stay.
type TrackPatch struct {
	Kind   *onair.TrackKind
	CueIn  *time.Duration
	CueOut *time.Duration
	Title  *string
	Artist *string
}

// PatchTrack changes a track's kind, cue points, title or artist. Cue
// points must keep at least MinCueSpan of the track: 0 ≤ in < out ≤
// duration. A live station plays the change from the track's next start.
func (s *Service) PatchTrack(ctx context.Context, u *onair.User, slug string, id int64, p TrackPatch) (onair.Track, error) {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return onair.Track{}, err
	}
	t, err := s.Store.TrackByID(ctx, id)
	if err != nil || t.StationID != st.ID {
		return onair.Track{}, onair.Errorf(onair.ENotFound, "track %d is not on station %q", id, slug)
	}
	if p.Kind == nil && p.CueIn == nil && p.CueOut == nil && p.Title == nil && p.Artist == nil {
		return onair.Track{}, onair.Errorf(onair.EInvalid, "give a kind, cue points, a title or an artist")
	}
	if p.Kind != nil {
		if !p.Kind.Valid() {
			return onair.Track{}, onair.Errorf(onair.EInvalid, "kind must be %q or %q, got %q", onair.KindMusic, onair.KindJingle, *p.Kind)
		}
		t.Kind = *p.Kind
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&t.Title, p.Title}, {&t.Artist, p.Artist}} {
		if f.src == nil {
			continue
		}
		v := strings.TrimSpace(*f.src)
		if len([]rune(v)) > maxText {
			return onair.Track{}, onair.Errorf(onair.EInvalid, "title and artist are limited to %d characters", maxText)
		}
		*f.dst = onair.OneLine(v)
	}
	if p.Title != nil && t.Title == "" {
		return onair.Track{}, onair.Errorf(onair.EInvalid, "a track needs a title")
	}
	if p.CueIn != nil || p.CueOut != nil {
		if t.Analysis == nil {
			return onair.Track{}, onair.Errorf(onair.EConflict, "track %d is not analysed yet: its cue points come with the analysis", id)
		}
		a := *t.Analysis
		if p.CueIn != nil {
			a.CueIn = *p.CueIn
		}
		if p.CueOut != nil {
			a.CueOut = *p.CueOut
		}
		if err := checkCues(a.CueIn, a.CueOut, t.Duration); err != nil {
			return onair.Track{}, err
		}
		t.Analysis = &a
	}
	if err := s.Store.UpdateTrack(ctx, &t); err != nil {
		return onair.Track{}, err
	}
	if err := s.resync(ctx, st); err != nil {
		s.logger().Warn("updating the live playlist after a track change", "station", slug, "err", err)
	}
	return s.Store.TrackByID(ctx, id)
}

func checkCues(in, out, duration time.Duration) error {
	switch {
	case in < 0:
		return onair.Errorf(onair.EInvalid, "cue_in_ms must not be negative")
	case out > duration:
		return onair.Errorf(onair.EInvalid, "cue_out_ms must be at most the duration, %d ms", duration.Milliseconds())
	case out-in < MinCueSpan:
		return onair.Errorf(onair.EInvalid, "cue_out_ms must be at least %d ms after cue_in_ms", MinCueSpan.Milliseconds())
	}
	return nil
}

// MaxHistory is the most history entries one request may ask for.
const MaxHistory = 200

// History lists what a station played, newest first; anyone may look.
func (s *Service) History(ctx context.Context, slug string, limit int) ([]onair.HistoryEntry, error) {
	if limit < 1 || limit > MaxHistory {
		return nil, onair.Errorf(onair.EInvalid, "limit must be between 1 and %d", MaxHistory)
	}
	st, err := s.Store.StationBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	hs, err := s.Store.History(ctx, st.ID, limit)
	if err != nil || s.Audience == nil {
		return hs, err
	}
	// Newest first: each entry ended when the one before it in the list
	// started.
	for i := range hs {
		h := &hs[i]
		if i > 0 {
			if n, d, ok := s.Audience.Impact(ctx, st.ID, h.StartedAt, hs[i-1].StartedAt); ok {
				h.ListenersStart, h.ListenersDelta = &n, &d
			}
			continue
		}
		if n, ok := s.Audience.ListenersAt(ctx, st.ID, h.StartedAt); ok {
			h.ListenersStart = &n
		}
	}
	return hs, nil
}

// audience tells how many listened at a moment, from the statistics.
type audience interface {
	ListenersAt(ctx context.Context, stationID int64, t time.Time) (int, bool)
	Impact(ctx context.Context, stationID int64, start, end time.Time) (listenersStart, delta int, ok bool)
}

// recordHistory adds a history row when np is a new start of a track (a
// new track id or start time), not an edit of the metadata of the one
// playing. Run's goroutine alone calls it.
func (s *Service) recordHistory(ctx context.Context, slug string, np *onair.NowPlaying) error {
	key := playingKey{trackID: np.TrackID, started: np.StartedAt}
	if s.playing == nil {
		s.playing = map[string]playingKey{}
	}
	if prev, ok := s.playing[slug]; ok && prev.trackID == key.trackID && prev.started.Equal(key.started) {
		return nil
	}
	s.playing[slug] = key
	return s.Store.AddHistory(ctx, slug, onair.HistoryEntry{
		TrackID:   np.TrackID,
		Title:     np.Title,
		Artist:    np.Artist,
		StartedAt: np.StartedAt,
		Source:    np.Source,
	})
}

// TrackArt returns the file and image type of a track's cover art.
func (s *Service) TrackArt(ctx context.Context, slug string, id int64) (path, mime string, err error) {
	st, err := s.Store.StationBySlug(ctx, slug)
	if err != nil {
		return "", "", err
	}
	t, err := s.Store.TrackByID(ctx, id)
	if err != nil || t.StationID != st.ID {
		return "", "", onair.Errorf(onair.ENotFound, "track %d is not on station %q", id, slug)
	}
	if t.ArtMIME == "" || s.Ingest == nil {
		return "", "", onair.Errorf(onair.ENotFound, "track %d has no cover art", id)
	}
	return filepath.Join(s.Ingest.MediaDir, t.Path+".art"), t.ArtMIME, nil
}

// AnalysisProgress reports the background analysis: done of total tracks
// measured (or given up on). Both are 0 before it starts, and equal once it
// has finished.
func (s *Service) AnalysisProgress() (done, total int) {
	return int(s.analysis.done.Load()), int(s.analysis.total.Load())
}

// AnalyzePending measures, one at a time, every track that has no
// analysis, then gives live stations their tracks again so the new gains
// and cue points apply. A track that cannot be measured is logged and
// skipped: it plays unnormalised, as before. Run calls it when Analyze is
// set; it returns when done or when ctx ends.
func (s *Service) AnalyzePending(ctx context.Context) {
	if s.Analyze == nil {
		return
	}
	s.init()
	log := s.logger()
	pending, err := s.Store.UnanalysedTracks(ctx)
	if err != nil {
		log.Warn("listing tracks to analyse", "err", err)
		return
	}
	s.analysis.done.Store(0)
	s.analysis.total.Store(int64(len(pending)))
	if len(pending) == 0 {
		return
	}
	log.Info("analysing tracks uploaded before analysis existed", "tracks", len(pending))
	measured := 0
	for i, t := range pending {
		// Analysis decodes the whole file, as an upload check does: it
		// takes one of the same slots, so both together stay within
		// MaxIngests and leave the station clocks their CPU.
		select {
		case s.ingests <- struct{}{}:
		case <-ctx.Done():
			return
		}
		err := s.analyzeOne(ctx, t)
		<-s.ingests
		if ctx.Err() != nil {
			return // shutting down: the rest waits for the next start
		}
		if err != nil {
			log.Warn("cannot analyse track; it plays unnormalised", "track", t.ID, "file", t.Path, "err", err)
		} else {
			measured++
		}
		s.analysis.done.Store(int64(i + 1))
		log.Info(fmt.Sprintf("analysed %d/%d tracks", i+1, len(pending)), "track", t.ID)
	}
	if measured == 0 {
		return
	}
	live, err := s.Store.LiveStations(ctx)
	if err != nil {
		log.Warn("listing live stations after analysis", "err", err)
		return
	}
	for _, st := range live {
		if err := s.resync(ctx, st); err != nil {
			log.Warn("giving a live station its analysed tracks", "station", st.Slug, "err", err)
		}
	}
}

func (s *Service) analyzeOne(ctx context.Context, t onair.Track) error {
	a, err := s.Analyze(ctx, t)
	if err != nil {
		return err
	}
	if err := checkCues(a.CueIn, a.CueOut, t.Duration); err != nil {
		// Keep the loudness; play the whole file rather than a bad range.
		a.CueIn, a.CueOut = 0, t.Duration
	}
	return s.Store.SetTrackAnalysis(ctx, t.ID, a)
}
