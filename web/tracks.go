package web

import (
	"net/http"
	"strconv"

	"github.com/onairfm/onair"
)

// trackJSON is the contract's Track.
type trackJSON struct {
	ID         int64  `json:"id"`
	Title      string `json:"title"`
	Artist     string `json:"artist"`
	Album      string `json:"album"`
	DurationMS int64  `json:"duration_ms"`
	Bitrate    int    `json:"bitrate"`
	SampleRate int    `json:"sample_rate"`
	Channels   int    `json:"channels"`
	Filename   string `json:"filename"`
	Position   int    `json:"position"`
}

func newTrackJSON(t onair.Track) trackJSON {
	return trackJSON{
		ID:         t.ID,
		Title:      t.Title,
		Artist:     t.Artist,
		Album:      t.Album,
		DurationMS: t.Duration.Milliseconds(),
		Bitrate:    t.Bitrate,
		SampleRate: t.SampleRate,
		Channels:   t.Channels,
		Filename:   t.Filename,
		Position:   t.Position,
	}
}

type tracksAnswer struct {
	Tracks []trackJSON `json:"tracks"`
}

func writeTracks(w http.ResponseWriter, tracks []onair.Track) {
	out := tracksAnswer{Tracks: make([]trackJSON, 0, len(tracks))}
	for _, t := range tracks {
		out.Tracks = append(out.Tracks, newTrackJSON(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// listTracks: GET /api/stations/{slug}/tracks in play order, public.
func (s *Server) listTracks(w http.ResponseWriter, r *http.Request) error {
	tracks, err := s.Control.Tracks(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	writeTracks(w, tracks)
	return nil
}

// setPlaylist: PUT /api/stations/{slug}/playlist {"track_ids"}: the new
// play order, which must list every track of the station once.
func (s *Server) setPlaylist(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	var in struct {
		TrackIDs []int64 `json:"track_ids"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	if in.TrackIDs == nil {
		return onair.Errorf(onair.EInvalid, `"track_ids" is required: every track id of the station, in the new order`)
	}
	tracks, err := s.Control.SetOrder(r.Context(), u, r.PathValue("slug"), in.TrackIDs)
	if err != nil {
		return err
	}
	writeTracks(w, tracks)
	return nil
}

// deleteTrack: DELETE /api/stations/{slug}/tracks/{id}.
func (s *Server) deleteTrack(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return onair.Errorf(onair.ENotFound, "no track %q", r.PathValue("id"))
	}
	if err := s.Control.DeleteTrack(r.Context(), u, r.PathValue("slug"), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
