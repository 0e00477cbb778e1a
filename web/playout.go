package web

import (
	"net/http"

	"github.com/onairfm/onair"
)

// start: POST /api/stations/{slug}/start {"track_id"?}; the body may be
// empty. Answers the station as it is after the change, as do stop, skip
// and metadata.
func (s *Server) start(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	var in struct {
		TrackID int64 `json:"track_id"`
	}
	if u != nil {
		if err := decodeJSON(w, r, &in, true); err != nil {
			return err
		}
	}
	slug := r.PathValue("slug")
	if err := s.Control.StartStation(r.Context(), u, slug, in.TrackID); err != nil {
		return err
	}
	return s.writeStation(w, r, http.StatusOK, slug)
}

// stop: POST /api/stations/{slug}/stop.
func (s *Server) stop(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	slug := r.PathValue("slug")
	if err := s.Control.StopStation(r.Context(), u, slug); err != nil {
		return err
	}
	return s.writeStation(w, r, http.StatusOK, slug)
}

// skip: POST /api/stations/{slug}/skip.
func (s *Server) skip(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	slug := r.PathValue("slug")
	if err := s.Control.Skip(r.Context(), u, slug); err != nil {
		return err
	}
	return s.writeStation(w, r, http.StatusOK, slug)
}

// metadata: POST /api/stations/{slug}/metadata {"title"?,"artist"?,"show"?}.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	var md onair.MetadataUpdate
	if u != nil {
		if err := decodeJSON(w, r, &md, false); err != nil {
			return err
		}
	}
	slug := r.PathValue("slug")
	if err := s.Control.UpdateMetadata(r.Context(), u, slug, md); err != nil {
		return err
	}
	return s.writeStation(w, r, http.StatusOK, slug)
}
