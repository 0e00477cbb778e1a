package control

import (
	"context"
	"errors"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

// StartStation puts a station on air, at trackID when it is not 0. On a
// live station it jumps to trackID.
func (s *Service) StartStation(ctx context.Context, u *onair.User, slug string, trackID int64) error {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return err
	}
	return s.play(ctx, st, trackID)
}

func (s *Service) play(ctx context.Context, st *onair.Station, trackID int64) error {
	tracks, err := s.Store.Tracks(ctx, st.ID)
	if err != nil {
		return err
	}
	if trackID != 0 && !hasTrack(tracks, trackID) {
		return onair.Errorf(onair.ENotFound, "track %d is not on station %q", trackID, st.Slug)
	}
	if len(tracks) == 0 {
		return onair.Errorf(onair.EConflict, "station %q has no tracks to play: upload some first", st.Slug)
	}
	defer s.live.lock(st.Slug)()
	err = s.Relay.Start(info(st), tracks, relay.PlayOptions{Shuffle: st.Shuffle, Loop: st.Loop, StartTrackID: trackID})
	if errors.Is(err, relay.ErrNoTracks) {
		return onair.Errorf(onair.EConflict, "station %q has no playable tracks", st.Slug)
	}
	if err != nil {
		return err
	}
	return s.Store.SetLive(ctx, st.Slug, true)
}

func hasTrack(tracks []onair.Track, id int64) bool {
	for _, t := range tracks {
		if t.ID == id {
			return true
		}
	}
	return false
}

// StopStation takes a station off air. Stopping a station that is not live
// is not an error: it is off air either way.
func (s *Service) StopStation(ctx context.Context, u *onair.User, slug string) error {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return err
	}
	defer s.live.lock(st.Slug)()
	if err := s.Relay.Stop(st.Slug); err != nil && !errors.Is(err, relay.ErrNotLive) {
		return err
	}
	return s.Store.SetLive(ctx, st.Slug, false)
}

// Skip moves a live station to its next track.
func (s *Service) Skip(ctx context.Context, u *onair.User, slug string) error {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return err
	}
	return notLive(slug, s.Relay.Skip(st.Slug))
}

// UpdateMetadata changes what a station announces. The show title is kept
// with the station and survives tracks and restarts; a title or artist
// applies to the playing track only, so it needs a live station.
func (s *Service) UpdateMetadata(ctx context.Context, u *onair.User, slug string, md onair.MetadataUpdate) error {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return err
	}
	if md.Title == nil && md.Artist == nil && md.Show == nil {
		return onair.Errorf(onair.EInvalid, "give a title, an artist or a show")
	}
	for _, f := range []*string{md.Title, md.Artist, md.Show} {
		if f != nil && len([]rune(*f)) > maxText {
			return onair.Errorf(onair.EInvalid, "metadata is limited to %d characters", maxText)
		}
	}
	live := s.Relay.Status(st.Slug).Live
	if !live && (md.Title != nil || md.Artist != nil) {
		return onair.Errorf(onair.EConflict, "station %q is not live: only the show can be set", slug)
	}
	if md.Show != nil {
		st.Show = *md.Show
		if err := s.Store.UpdateStation(ctx, st); err != nil {
			return err
		}
	}
	if !live {
		return nil
	}
	return notLive(slug, s.Relay.SetMetadata(st.Slug, md))
}

// StationState is what a client joining a station's room is told at once.
func (s *Service) StationState(ctx context.Context, slug string) (onair.StationStatus, error) {
	if _, err := s.Store.StationBySlug(ctx, slug); err != nil {
		return onair.StationStatus{}, err
	}
	return s.Relay.Status(slug), nil
}
