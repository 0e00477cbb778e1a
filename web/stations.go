package web

import (
	"net/http"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/control"
)

// jsonTimeLayout is the one time format of the API.
const jsonTimeLayout = onair.TimeLayout

func jsonTime(t time.Time) string { return t.UTC().Format(jsonTimeLayout) }

// stationJSON is the contract's Station: the stored station with its live
// state from the relay.
type stationJSON struct {
	ID          int64           `json:"id"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Genre       string          `json:"genre"`
	Owner       string          `json:"owner"`
	Live        bool            `json:"live"`
	Listeners   listenersJSON   `json:"listeners"`
	NowPlaying  *nowPlayingJSON `json:"now_playing"`
	Source      *sourceJSON     `json:"source"`
	Show        string          `json:"show"`
	Streams     streamsJSON     `json:"streams"`
	Shuffle     bool            `json:"shuffle"`
	Loop        bool            `json:"loop"`
	Likes       int64           `json:"likes"`
	Audio       audioJSON       `json:"audio"`
	CreatedAt   string          `json:"created_at"`
}

// audioJSON is the contract's station "audio" object.
type audioJSON struct {
	SampleRate  int          `json:"sample_rate"`
	MP3Bitrate  int          `json:"mp3_bitrate"`
	CrossfadeMS int64        `json:"crossfade_ms"`
	Loudness    loudnessJSON `json:"loudness"`
	JingleEvery int          `json:"jingle_every"`
}

type loudnessJSON struct {
	Enabled    bool    `json:"enabled"`
	TargetLUFS float64 `json:"target_lufs"`
}

func newAudioJSON(a onair.AudioSettings) audioJSON {
	return audioJSON{
		SampleRate:  a.SampleRate,
		MP3Bitrate:  a.MP3Bitrate,
		CrossfadeMS: a.Crossfade.Milliseconds(),
		Loudness:    loudnessJSON{Enabled: a.LoudnessEnabled, TargetLUFS: a.LoudnessTarget},
		JingleEvery: a.JingleEvery,
	}
}

type listenersJSON struct {
	Total  int `json:"total"`
	HTTP   int `json:"http"`
	WebRTC int `json:"webrtc"`
}

type nowPlayingJSON struct {
	TrackID    int64   `json:"track_id"`
	Title      string  `json:"title"`
	Artist     string  `json:"artist"`
	Album      string  `json:"album"`
	DurationMS int64   `json:"duration_ms"`
	StartedAt  string  `json:"started_at"`
	Source     string  `json:"source"`
	Art        *string `json:"art"`
}

// sourceJSON is the live source that has the air from the playlist.
type sourceJSON struct {
	Kind        string `json:"kind"`
	Streamer    string `json:"streamer"`
	ConnectedAt string `json:"connected_at"`
}

func newSourceJSON(src *onair.LiveSource) *sourceJSON {
	if src == nil {
		return nil
	}
	return &sourceJSON{Kind: src.Kind, Streamer: src.Streamer, ConnectedAt: jsonTime(src.ConnectedAt)}
}

type streamsJSON struct {
	MP3  string `json:"mp3"`
	Opus string `json:"opus"`
	M3U  string `json:"m3u"`
	PLS  string `json:"pls"`
}

// newStationJSON joins a stored station and its live status.
func newStationJSON(st *onair.Station, status onair.StationStatus) stationJSON {
	out := stationJSON{
		ID:          st.ID,
		Slug:        st.Slug,
		Name:        st.Name,
		Description: st.Description,
		Genre:       st.Genre,
		Owner:       st.Owner,
		Live:        status.Live,
		Show:        st.Show,
		Streams: streamsJSON{
			MP3:  "/stream/" + st.Slug,
			Opus: "/stream/" + st.Slug + ".opus",
			M3U:  "/stream/" + st.Slug + ".m3u",
			PLS:  "/stream/" + st.Slug + ".pls",
		},
		Audio:     newAudioJSON(st.Audio),
		Shuffle:   st.Shuffle,
		Loop:      st.Loop,
		Likes:     st.Likes,
		CreatedAt: jsonTime(st.CreatedAt),
	}
	if status.Live {
		l := status.Listeners
		out.Listeners = listenersJSON{Total: l.Total(), HTTP: l.HTTP, WebRTC: l.WebRTC}
		out.Source = newSourceJSON(status.Source)
		if np := status.NowPlaying; np != nil {
			out.NowPlaying = &nowPlayingJSON{
				TrackID:    np.TrackID,
				Title:      np.Title,
				Artist:     np.Artist,
				Album:      np.Album,
				DurationMS: np.Duration.Milliseconds(),
				StartedAt:  jsonTime(np.StartedAt),
				Source:     np.Source,
			}
			if out.NowPlaying.Source == "" {
				out.NowPlaying.Source = onair.SourcePlaylist
			}
			if np.HasArt && np.TrackID != 0 {
				out.NowPlaying.Art = artPath(st.Slug, np.TrackID)
			}
		}
	}
	return out
}

// stationJSON renders st with its live state.
func (s *Server) stationJSON(st *onair.Station) stationJSON {
	return newStationJSON(st, s.Control.Status(st.Slug))
}

// writeStation answers the station slug as it is now.
func (s *Server) writeStation(w http.ResponseWriter, r *http.Request, status int, slug string) error {
	st, err := s.Control.Station(r.Context(), slug)
	if err != nil {
		return err
	}
	writeJSON(w, status, s.stationJSON(st))
	return nil
}

// listStations: GET /api/stations, public.
func (s *Server) listStations(w http.ResponseWriter, r *http.Request) error {
	all, err := s.Control.Stations(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Stations []stationJSON `json:"stations"`
	}{Stations: make([]stationJSON, 0, len(all))}
	for _, st := range all {
		out.Stations = append(out.Stations, s.stationJSON(st))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getStation: GET /api/stations/{slug}, public.
func (s *Server) getStation(w http.ResponseWriter, r *http.Request) error {
	return s.writeStation(w, r, http.StatusOK, r.PathValue("slug"))
}

// createStation: POST /api/stations, for owners and admins.
func (s *Server) createStation(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	var in struct {
		Name        string `json:"name"`
		Slug        string `json:"slug"`
		Description string `json:"description"`
		Genre       string `json:"genre"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	st, err := s.Control.CreateStation(r.Context(), u, control.NewStation{
		Name: in.Name, Slug: in.Slug, Description: in.Description, Genre: in.Genre,
	})
	if err != nil {
		return err
	}
	return s.writeStation(w, r, http.StatusCreated, st.Slug)
}

// updateStation: PATCH /api/stations/{slug}; absent fields stay.
func (s *Server) updateStation(w http.ResponseWriter, r *http.Request) error {
	u, err := s.loggedIn(r)
	if err != nil {
		return err
	}
	var in struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Genre       *string `json:"genre"`
		Shuffle     *bool   `json:"shuffle"`
		Loop        *bool   `json:"loop"`
		Audio       *struct {
			SampleRate  *int `json:"sample_rate"`
			MP3Bitrate  *int `json:"mp3_bitrate"`
			CrossfadeMS *int `json:"crossfade_ms"`
			Loudness    *struct {
				Enabled    *bool    `json:"enabled"`
				TargetLUFS *float64 `json:"target_lufs"`
			} `json:"loudness"`
			JingleEvery *int `json:"jingle_every"`
		} `json:"audio"`
	}
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	p := control.StationPatch{
		Name: in.Name, Description: in.Description, Genre: in.Genre, Shuffle: in.Shuffle, Loop: in.Loop,
	}
	if a := in.Audio; a != nil {
		p.Audio = &control.AudioPatch{
			SampleRate: a.SampleRate, MP3Bitrate: a.MP3Bitrate, CrossfadeMS: a.CrossfadeMS, JingleEvery: a.JingleEvery,
		}
		if a.Loudness != nil {
			p.Audio.LoudnessEnabled, p.Audio.LoudnessTarget = a.Loudness.Enabled, a.Loudness.TargetLUFS
		}
	}
	st, err := s.Control.UpdateStation(r.Context(), u, r.PathValue("slug"), p)
	if err != nil {
		return err
	}
	return s.writeStation(w, r, http.StatusOK, st.Slug)
}

// deleteStation: DELETE /api/stations/{slug}.
func (s *Server) deleteStation(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	if err := s.Control.DeleteStation(r.Context(), u, r.PathValue("slug")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
