package web

import (
	"net/http"

	"github.com/onairfm/onair"
)

// stationAction runs one owner action on the station of the path and
// answers the station as it is after it. act reads any request body itself,
// and only for a logged-in user, so nobody gets a 401 rather than a 400.
func (s *Server) stationAction(w http.ResponseWriter, r *http.Request, act func(u *onair.User, slug string) error) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	slug := r.PathValue("slug")
	if err := act(u, slug); err != nil {
		return err
	}
	return s.writeStation(w, r, http.StatusOK, slug)
}

// start: POST /api/stations/{slug}/start {"track_id"?}; the body may be
// empty.
func (s *Server) start(w http.ResponseWriter, r *http.Request) error {
	return s.stationAction(w, r, func(u *onair.User, slug string) error {
		var in struct {
			TrackID int64 `json:"track_id"`
		}
		if u != nil {
			if err := decodeJSON(w, r, &in, true); err != nil {
				return err
			}
		}
		return s.Control.StartStation(r.Context(), u, slug, in.TrackID)
	})
}

// stop: POST /api/stations/{slug}/stop.
func (s *Server) stop(w http.ResponseWriter, r *http.Request) error {
	return s.stationAction(w, r, func(u *onair.User, slug string) error {
		return s.Control.StopStation(r.Context(), u, slug)
	})
}

// skip: POST /api/stations/{slug}/skip.
func (s *Server) skip(w http.ResponseWriter, r *http.Request) error {
	return s.stationAction(w, r, func(u *onair.User, slug string) error {
		return s.Control.Skip(r.Context(), u, slug)
	})
}

// metadata: POST /api/stations/{slug}/metadata {"title"?,"artist"?,"show"?}.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) error {
	return s.stationAction(w, r, func(u *onair.User, slug string) error {
		var md onair.MetadataUpdate
		if u != nil {
			if err := decodeJSON(w, r, &md, false); err != nil {
				return err
			}
		}
		return s.Control.UpdateMetadata(r.Context(), u, slug, md)
	})
}
