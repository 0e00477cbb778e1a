package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/stats"
	"github.com/onairfm/onair/store"
)

// statsReporter answers the statistics routes (a stats.Recorder).
type statsReporter interface {
	ParseRange(q url.Values) (from, to time.Time, err error)
	Report(ctx context.Context, stationID int64, from, to time.Time) (stats.Report, error)
}

var errNoAdmin = onair.Errorf(onair.EForbidden, "only an admin may see the server's statistics")

// stationStats: GET /api/stations/{slug}/stats?from=&to= (its owner, an
// admin).
func (s *Server) stationStats(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.stationReport(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newStatsJSON(rep))
	return nil
}

// statsJSON is a stats.Report on the wire, with the API's time layout.
type statsJSON struct {
	From           string      `json:"from"`
	To             string      `json:"to"`
	StepS          int         `json:"step_s"`
	Points         []pointJSON `json:"points"`
	Peak           peakJSON    `json:"peak"`
	Sessions       int64       `json:"sessions"`
	ListeningHours float64     `json:"listening_hours"`
	AvgSessionS    float64     `json:"avg_session_s"`
	Chat           int64       `json:"chat"`
	Likes          int64       `json:"likes"`
}

type pointJSON struct {
	T         string `json:"t"`
	Listeners int    `json:"listeners"`
	HTTP      int    `json:"http"`
	WebRTC    int    `json:"webrtc"`
	Chat      int    `json:"chat"`
	Likes     int    `json:"likes"`
}

type peakJSON struct {
	T         *string `json:"t"`
	Listeners int     `json:"listeners"`
}

func newStatsJSON(rep stats.Report) statsJSON {
	out := statsJSON{
		From: jsonTime(rep.From), To: jsonTime(rep.To), StepS: rep.StepS,
		Points:   make([]pointJSON, 0, len(rep.Points)),
		Peak:     peakJSON{Listeners: rep.Peak.Listeners},
		Sessions: rep.Sessions, ListeningHours: rep.ListeningHours, AvgSessionS: rep.AvgSessionS,
		Chat: rep.Chat, Likes: rep.Likes,
	}
	for _, p := range rep.Points {
		out.Points = append(out.Points, pointJSON{T: jsonTime(p.T), Listeners: p.Listeners, HTTP: p.HTTP, WebRTC: p.WebRTC, Chat: p.Chat, Likes: p.Likes})
	}
	if rep.Peak.T != nil {
		t := jsonTime(*rep.Peak.T)
		out.Peak.T = &t
	}
	return out
}

// stationStatsCSV: GET /api/stations/{slug}/stats.csv, the same points.
func (s *Server) stationStatsCSV(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.stationReport(r)
	if err != nil {
		return err
	}
	return writeStatsCSV(w, r.PathValue("slug")+"-listeners.csv", rep)
}

// serverStats: GET /api/stats?from=&to= (admin): the whole server.
func (s *Server) serverStats(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.serverReport(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newStatsJSON(rep))
	return nil
}

// serverStatsCSV: GET /api/stats.csv (admin).
func (s *Server) serverStatsCSV(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.serverReport(r)
	if err != nil {
		return err
	}
	return writeStatsCSV(w, "onair-listeners.csv", rep)
}

// stationReport checks who asks (401, 404, 403), then the range (400).
func (s *Server) stationReport(r *http.Request) (stats.Report, error) {
	if s.Stats == nil {
		return stats.Report{}, errNoService
	}
	u, err := s.loggedIn(r)
	if err != nil {
		return stats.Report{}, err
	}
	slug := r.PathValue("slug")
	st, err := s.Control.Station(r.Context(), slug)
	if err != nil {
		return stats.Report{}, err
	}
	if !u.CanManage(st) {
		return stats.Report{}, onair.Errorf(onair.EForbidden, "only the owner of %q or an admin may see its statistics", slug)
	}
	return s.report(r, st.ID)
}

func (s *Server) serverReport(r *http.Request) (stats.Report, error) {
	if s.Stats == nil {
		return stats.Report{}, errNoService
	}
	u, err := s.loggedIn(r)
	if err != nil {
		return stats.Report{}, err
	}
	if u.Role != onair.RoleAdmin {
		return stats.Report{}, errNoAdmin
	}
	return s.report(r, store.ServerStats)
}

func (s *Server) report(r *http.Request, stationID int64) (stats.Report, error) {
	from, to, err := s.Stats.ParseRange(r.URL.Query())
	if err != nil {
		return stats.Report{}, err
	}
	return s.Stats.Report(r.Context(), stationID, from, to)
}

// writeStatsCSV writes the points as CSV with a header row, times as in
// the JSON.
func writeStatsCSV(w http.ResponseWriter, filename string, rep stats.Report) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"t", "listeners", "http", "webrtc", "chat", "likes"})
	for _, p := range rep.Points {
		_ = cw.Write([]string{
			jsonTime(p.T),
			strconv.Itoa(p.Listeners), strconv.Itoa(p.HTTP), strconv.Itoa(p.WebRTC),
			strconv.Itoa(p.Chat), strconv.Itoa(p.Likes),
		})
	}
	cw.Flush()
	// The status is sent: a failed write means the client went away.
	return nil
}
