// Package control runs stations for their owners. It decides who may do
// what, keeps the store, the media files and the relay in step, and is the
// one place that REST and WebSocket commands go through, so a command has
// the same rules and the same effect on either.
package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
	"github.com/onairfm/onair/ingest"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/store"
)

// Service is the station control surface. Fill the fields; call Run to
// persist what the relay reports, and Resume once at start-up.
type Service struct {
	Store  *store.DB
	Relay  *relay.Relay
	Ingest *ingest.Ingester
	Logger *slog.Logger
	// Auth hashes and checks streamer passwords; nil uses bcrypt at its
	// default cost.
	Auth *auth.Service
	// MaxIngests bounds how many uploads are checked at once; 0 means one
	// per CPU. Checking decodes the whole file (about 1% of its length in
	// CPU time here), and unbounded uploads would starve the station
	// clocks.
	MaxIngests int
	// QuotaBytes caps the media stored per station; 0 means no quota.
	QuotaBytes int64
	// Audience, when set, gives history its listener changes ("song
	// impact"), from the statistics.
	Audience audience
	// AudioDefaults is the sound of new stations; zero takes the store's
	// defaults (44.1 kHz, 128 kbit/s, 2 s crossfade, -16 LUFS).
	AudioDefaults onair.AudioSettings
	// Analyze measures a track's sound. When set, Run measures in the
	// background every track that has no analysis yet (uploaded before
	// analysis existed, or whose analysis failed). It must honour ctx.
	Analyze func(ctx context.Context, t onair.Track) (onair.Analysis, error)

	// live serialises, per station, the transitions of its live state, so
	// a stop reported late by the relay cannot undo a start that followed,
	// and the quota check of an upload with its insert. One station's
	// SQLite write or peers closing never holds up another's.
	live stationLocks

	once    sync.Once
	events  chan onair.Event
	ingests chan struct{}

	// playing is the last track each station reported, so history gets one
	// row per track start and none for a metadata edit. Run's goroutine
	// alone touches it.
	playing map[string]playingKey
	// analysis counts the background analysis, for AnalysisProgress.
	analysis struct {
		done, total atomic.Int64
	}
}

// playingKey tells one start of a track from another.
type playingKey struct {
	trackID int64
	started time.Time
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// manage returns the station u may change, or why not: 401 for nobody,
// 404 for no such station, 403 for somebody else's.
func (s *Service) manage(ctx context.Context, u *onair.User, slug string) (*onair.Station, error) {
	if u == nil {
		return nil, onair.Errorf(onair.EUnauthorized, "log in to manage a station")
	}
	st, err := s.Store.StationBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !u.CanManage(st) {
		return nil, onair.Errorf(onair.EForbidden, "only the owner of %q or an admin may do that", slug)
	}
	return st, nil
}

// Station returns a station by slug; anyone may look.
func (s *Service) Station(ctx context.Context, slug string) (*onair.Station, error) {
	return s.Store.StationBySlug(ctx, slug)
}

// Stations lists every station.
func (s *Service) Stations(ctx context.Context) ([]*onair.Station, error) {
	return s.Store.Stations(ctx)
}

// StationsOf lists the stations u may manage: all for an admin.
func (s *Service) StationsOf(ctx context.Context, u *onair.User) ([]*onair.Station, error) {
	if u == nil {
		return nil, onair.Errorf(onair.EUnauthorized, "log in to see your stations")
	}
	if u.Role == onair.RoleAdmin {
		return s.Store.Stations(ctx)
	}
	return s.Store.StationsByOwner(ctx, u.ID)
}

// Status is a station's live state.
func (s *Service) Status(slug string) onair.StationStatus {
	return s.Relay.Status(slug)
}

// Publish receives the relay's events. It never blocks the station clock:
// the store is written by Run.
func (s *Service) Publish(ev onair.Event) {
	if ev.Kind != onair.EventMetadata && ev.Kind != onair.EventStopped {
		return
	}
	select {
	case s.queue() <- ev:
	default:
		s.logger().Warn("event queue full; station state not saved", "station", ev.Station, "event", ev.Kind)
	}
}

func (s *Service) init() {
	s.once.Do(func() {
		s.events = make(chan onair.Event, 256)
		n := s.MaxIngests
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		s.ingests = make(chan struct{}, n)
	})
}

func (s *Service) queue() chan onair.Event {
	s.init()
	return s.events
}

// Run saves what the relay reports until ctx ends: the playing track, so a
// restart resumes it, what each station played, and a station that stopped
// by itself. With Analyze set it also measures unanalysed tracks in a
// goroutine of its own, which it stops and waits for before returning.
// When ctx ends it first saves what is still queued (within drainTimeout),
// so a clean shutdown loses no state: cmd stops the relay before it ends
// ctx.
func (s *Service) Run(ctx context.Context) {
	q := s.queue()
	if s.Analyze != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.AnalyzePending(ctx)
		}()
		defer func() { <-done }()
	}
	// A save is a short write that must not be cut by shutdown: when ctx
	// ends while an event is being taken, it is still saved whole.
	saveCtx := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			s.drain(q)
			return
		case ev := <-q:
			s.save(saveCtx, ev)
		}
	}
}

// drainTimeout bounds the saves at shutdown.
const drainTimeout = 5 * time.Second

func (s *Service) drain(q chan onair.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for {
		select {
		case ev := <-q:
			s.save(ctx, ev)
		default:
			return
		}
	}
}

func (s *Service) save(ctx context.Context, ev onair.Event) {
	var err error
	switch ev.Kind {
	case onair.EventMetadata:
		if ev.NowPlaying != nil {
			err = s.Store.SetCurrentTrack(ctx, ev.Station, ev.NowPlaying.TrackID)
			if hErr := s.recordHistory(ctx, ev.Station, ev.NowPlaying); hErr != nil && err == nil {
				err = hErr
			}
		}
	case onair.EventStopped:
		delete(s.playing, ev.Station) // the same track after a restart is a new start
		unlock := s.live.lock(ev.Station)
		if !s.Relay.Status(ev.Station).Live {
			err = s.Store.SetLive(ctx, ev.Station, false)
		}
		unlock()
	}
	if err != nil && onair.ErrorCode(err) != onair.ENotFound {
		s.logger().Warn("saving station state", "station", ev.Station, "err", err)
	}
}

// Resume puts back on air the stations that were live when the server
// stopped, each at the track it was playing.
func (s *Service) Resume(ctx context.Context) error {
	live, err := s.Store.LiveStations(ctx)
	if err != nil {
		return fmt.Errorf("control: resume: %w", err)
	}
	for _, st := range live {
		if err := s.play(ctx, st, st.CurrentTrackID); err != nil {
			s.logger().Warn("cannot resume station", "station", st.Slug, "err", err)
			if errors.Is(err, relay.ErrNoTracks) {
				_ = s.Store.SetLive(ctx, st.Slug, false)
			}
			continue
		}
		s.logger().Info("station resumed", "station", st.Slug)
	}
	return nil
}

func info(st *onair.Station) relay.StationInfo {
	return relay.StationInfo{Slug: st.Slug, Name: st.Name, Description: st.Description, Genre: st.Genre, Show: st.Show, Audio: st.Audio}
}

// notLive turns the relay's answer for an off-air station into a conflict:
// the station exists, it just is not playing.
func notLive(slug string, err error) error {
	if errors.Is(err, relay.ErrNotLive) {
		return onair.Errorf(onair.EConflict, "station %q is not live", slug)
	}
	return err
}
