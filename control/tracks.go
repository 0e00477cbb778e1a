package control

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

// CanUpload checks, before any bytes are read, that u may upload to slug.
func (s *Service) CanUpload(ctx context.Context, u *onair.User, slug string) (*onair.Station, error) {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return nil, err
	}
	if s.QuotaBytes > 0 {
		used, err := s.usedBytes(ctx, st)
		if err != nil {
			return nil, err
		}
		if used >= s.QuotaBytes {
			return nil, errQuota(st, used, 0, s.QuotaBytes)
		}
	}
	return st, nil
}

// usedBytes is the media a station stores.
func (s *Service) usedBytes(ctx context.Context, st *onair.Station) (int64, error) {
	tracks, err := s.Store.Tracks(ctx, st.ID)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range tracks {
		n += t.Size
	}
	return n, nil
}

func errQuota(st *onair.Station, used, adding, quota int64) error {
	return onair.Errorf(onair.ENoSpace,
		"station %q is out of storage: it holds %d of its %d bytes, and this file needs %d more; delete some tracks first",
		st.Slug, used, quota, adding)
}

// AddTrack ingests one uploaded file into st, which CanUpload returned. The
// file is checked and stored before its row is added; if the row cannot be
// added, the file goes too, so a failed upload leaves nothing.
func (s *Service) AddTrack(ctx context.Context, st *onair.Station, filename string, r io.Reader) (onair.Track, error) {
	s.init()
	select {
	case s.ingests <- struct{}{}:
		defer func() { <-s.ingests }()
	case <-ctx.Done():
		return onair.Track{}, fmt.Errorf("control: waiting to check %s: %w", filename, ctx.Err())
	}
	t, err := s.Ingest.Ingest(ctx, filename, r)
	if err != nil {
		return onair.Track{}, err
	}
	t.StationID = st.ID
	// The quota check and the insert go together, so two uploads at
	// once cannot both take the last free bytes.
	unlock := s.live.lock(st.Slug)
	defer unlock()
	if s.QuotaBytes > 0 {
		used, err := s.usedBytes(ctx, st)
		if err == nil && used+t.Size > s.QuotaBytes {
			err = errQuota(st, used, t.Size, s.QuotaBytes)
		}
		if err != nil {
			if rmErr := s.Ingest.Remove(t); rmErr != nil {
				s.logger().Warn("removing the file of a track over quota", "file", t.Path, "err", rmErr)
			}
			return onair.Track{}, err
		}
	}
	if err := s.Store.AddTrack(ctx, &t); err != nil {
		if rmErr := s.Ingest.Remove(t); rmErr != nil {
			s.logger().Warn("removing the file of a track not stored", "file", t.Path, "err", rmErr)
		}
		return onair.Track{}, fmt.Errorf("control: add track: %w", err)
	}
	return t, nil
}

// TracksAdded tells a live station about new tracks; call it once after a
// batch of AddTrack.
func (s *Service) TracksAdded(ctx context.Context, st *onair.Station) error {
	return s.resync(ctx, st)
}

// Tracks lists a station's tracks in play order; anyone may look.
func (s *Service) Tracks(ctx context.Context, slug string) ([]onair.Track, error) {
	st, err := s.Store.StationBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	return s.Store.Tracks(ctx, st.ID)
}

// SetOrder sets a station's play order: ids must be exactly its tracks.
func (s *Service) SetOrder(ctx context.Context, u *onair.User, slug string, ids []int64) ([]onair.Track, error) {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SetOrder(ctx, st.ID, ids); err != nil {
		return nil, err
	}
	if err := s.resync(ctx, st); err != nil {
		return nil, err
	}
	return s.Store.Tracks(ctx, st.ID)
}

// DeleteTrack deletes a track and its file. When it is playing, the
// station moves on to the next track at once.
func (s *Service) DeleteTrack(ctx context.Context, u *onair.User, slug string, id int64) error {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return err
	}
	t, err := s.Store.DeleteTrack(ctx, st.ID, id)
	if err != nil {
		return err
	}
	if err := s.resync(ctx, st); err != nil {
		s.logger().Warn("updating the live playlist after a delete", "station", slug, "err", err)
	}
	if err := s.Ingest.Remove(t); err != nil {
		s.logger().Warn("removing a deleted track's file", "file", t.Path, "err", err)
	}
	return nil
}

// resync gives a live station its stored play order and options.
func (s *Service) resync(ctx context.Context, st *onair.Station) error {
	if !s.Relay.Status(st.Slug).Live {
		return nil
	}
	tracks, err := s.Store.Tracks(ctx, st.ID)
	if err != nil {
		return err
	}
	err = s.Relay.SetPlaylist(st.Slug, tracks, st.Shuffle, st.Loop)
	if errors.Is(err, relay.ErrNotLive) {
		// It stopped meanwhile: nothing to update.
		return nil
	}
	return err
}
