package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/control"
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
	Format     string `json:"format"`
	Kind       string `json:"kind"`
	// Null until the track is analysed.
	LoudnessLUFS *float64 `json:"loudness_lufs"`
	PeakDBTP     *float64 `json:"peak_dbtp"`
	CueInMS      *int64   `json:"cue_in_ms"`
	CueOutMS     *int64   `json:"cue_out_ms"`
	Art          *string  `json:"art"`
}

// artPath is where a track's cover art is served.
func artPath(slug string, trackID int64) *string {
	p := onair.ArtPath(slug, trackID)
	return &p
}

func newTrackJSON(slug string, t onair.Track) trackJSON {
	out := trackJSON{
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
		Format:     t.Format,
		Kind:       string(t.Kind),
	}
	if a := t.Analysis; a != nil {
		in, outMS := a.CueIn.Milliseconds(), a.CueOut.Milliseconds()
		out.LoudnessLUFS, out.PeakDBTP, out.CueInMS, out.CueOutMS = &a.Loudness, &a.Peak, &in, &outMS
	}
	if t.ArtMIME != "" {
		out.Art = artPath(slug, t.ID)
	}
	return out
}

type tracksAnswer struct {
	Tracks []trackJSON `json:"tracks"`
}

func writeTracks(w http.ResponseWriter, slug string, tracks []onair.Track) {
	out := tracksAnswer{Tracks: make([]trackJSON, 0, len(tracks))}
	for _, t := range tracks {
		out.Tracks = append(out.Tracks, newTrackJSON(slug, t))
	}
	writeJSON(w, http.StatusOK, out)
}

// listTracks: GET /api/stations/{slug}/tracks in play order, public.
func (s *Server) listTracks(w http.ResponseWriter, r *http.Request) error {
	tracks, err := s.Control.Tracks(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	writeTracks(w, r.PathValue("slug"), tracks)
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
	writeTracks(w, r.PathValue("slug"), tracks)
	return nil
}

// deleteTrack: DELETE /api/stations/{slug}/tracks/{id}.
func (s *Server) deleteTrack(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	id, err := trackID(r)
	if err != nil {
		return err
	}
	if err := s.Control.DeleteTrack(r.Context(), u, r.PathValue("slug"), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// trackID reads the {id} of a track route.
func trackID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, onair.Errorf(onair.ENotFound, "no track %q", r.PathValue("id"))
	}
	return id, nil
}

// patchTrack: PATCH /api/stations/{slug}/tracks/{id}
// {"kind","cue_in_ms","cue_out_ms","title","artist"}, any subset.
func (s *Server) patchTrack(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	id, err := trackID(r)
	if err != nil {
		return err
	}
	var in struct {
		Kind     *onair.TrackKind `json:"kind"`
		CueInMS  *int64           `json:"cue_in_ms"`
		CueOutMS *int64           `json:"cue_out_ms"`
		Title    *string          `json:"title"`
		Artist   *string          `json:"artist"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	ms := func(v *int64) *time.Duration {
		if v == nil {
			return nil
		}
		// Clamped to 35 years either way, which no track is, so the
		// range check refuses it rather than the multiplication wrapping.
		d := time.Duration(min(max(*v, -1<<40), 1<<40)) * time.Millisecond
		return &d
	}
	slug := r.PathValue("slug")
	t, err := s.Control.PatchTrack(r.Context(), u, slug, id, control.TrackPatch{
		Kind: in.Kind, CueIn: ms(in.CueInMS), CueOut: ms(in.CueOutMS), Title: in.Title, Artist: in.Artist,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTrackJSON(slug, t))
	return nil
}

// trackArt: GET /api/stations/{slug}/tracks/{id}/art, public: the cover
// art from the track's tags, as its own image type. Art never changes for
// a track id (a new upload is a new id), so it is cacheable for a day and
// revalidated by an ETag made of the id and the file's size and time.
func (s *Server) trackArt(w http.ResponseWriter, r *http.Request) error {
	id, err := trackID(r)
	if err != nil {
		return err
	}
	path, mime, err := s.Control.TrackArt(r.Context(), r.PathValue("slug"), id)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return onair.Errorf(onair.ENotFound, "track %d has no cover art", id)
	}
	if err != nil {
		return fmt.Errorf("web: cover art of track %d: %w", id, err)
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("web: cover art of track %d: %w", id, err)
	}
	h := w.Header()
	h.Set("Content-Type", mime)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", fmt.Sprintf(`"%d-%x-%x"`, id, fi.Size(), fi.ModTime().UnixNano()))
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}

// history: GET /api/stations/{slug}/history?limit=N (default 20, at most
// 200), public, newest first.
func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > control.MaxHistory {
			return onair.Errorf(onair.EInvalid, "limit must be a number from 1 to %d", control.MaxHistory)
		}
		limit = n
	}
	hs, err := s.Control.History(r.Context(), r.PathValue("slug"), limit)
	if err != nil {
		return err
	}
	type entry struct {
		TrackID        *int64 `json:"track_id"`
		Title          string `json:"title"`
		Artist         string `json:"artist"`
		StartedAt      string `json:"started_at"`
		Source         string `json:"source"`
		ListenersStart *int   `json:"listeners_start,omitempty"`
		ListenersDelta *int   `json:"listeners_delta,omitempty"`
	}
	out := struct {
		History []entry `json:"history"`
	}{History: make([]entry, 0, len(hs))}
	for _, h := range hs {
		e := entry{Title: h.Title, Artist: h.Artist, StartedAt: jsonTime(h.StartedAt), Source: h.Source,
			ListenersStart: h.ListenersStart, ListenersDelta: h.ListenersDelta}
		if h.TrackID != 0 {
			e.TrackID = &h.TrackID
		}
		out.History = append(out.History, e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// analysis: GET /api/analysis, for owners and admins: how far the
// background analysis of old tracks has come, for the dashboard.
func (s *Server) analysis(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	if !u.CanCreateStations() {
		return onair.Errorf(onair.EForbidden, "only owners and admins see the analysis")
	}
	done, total := s.Control.AnalysisProgress()
	writeJSON(w, http.StatusOK, struct {
		Done    int  `json:"done"`
		Total   int  `json:"total"`
		Running bool `json:"running"`
	}{done, total, done < total})
	return nil
}
