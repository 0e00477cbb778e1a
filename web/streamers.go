package web

import (
	"net/http"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/control"
)

// streamerJSON is a streamer as its station's owner sees it: never its
// password.
type streamerJSON struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

func newStreamerJSON(st *onair.Streamer) streamerJSON {
	return streamerJSON{Username: st.Username, DisplayName: st.DisplayName, CreatedAt: jsonTime(st.CreatedAt)}
}

// createStreamer: POST /api/stations/{slug}/streamers
// {"username","password","display_name"?} (its owner, admin).
func (s *Server) createStreamer(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	var in struct {
		Username    string `json:"username"`
		Password    string `json:"password"`
		DisplayName string `json:"display_name"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	st, err := s.Control.CreateStreamer(r.Context(), u, r.PathValue("slug"), control.NewStreamer{
		Username: in.Username, Password: in.Password, DisplayName: in.DisplayName,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newStreamerJSON(st))
	return nil
}

// listStreamers: GET /api/stations/{slug}/streamers (its owner, admin).
func (s *Server) listStreamers(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	list, err := s.Control.Streamers(r.Context(), u, r.PathValue("slug"))
	if err != nil {
		return err
	}
	out := make([]streamerJSON, 0, len(list))
	for _, st := range list {
		out = append(out, newStreamerJSON(st))
	}
	writeJSON(w, http.StatusOK, map[string]any{"streamers": out})
	return nil
}

// deleteStreamer: DELETE /api/stations/{slug}/streamers/{username} (its
// owner, admin).
func (s *Server) deleteStreamer(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	if err := s.Control.DeleteStreamer(r.Context(), u, r.PathValue("slug"), r.PathValue("username")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// source: PUT and SOURCE /stream/{slug} (a live source client) and GET
// /admin/metadata (its titles), both Icecast's, served by package live.
func (s *Server) source(w http.ResponseWriter, r *http.Request) error {
	if s.Source == nil {
		return errNoService
	}
	s.Source.ServeHTTP(w, r)
	return nil
}
