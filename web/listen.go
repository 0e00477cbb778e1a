package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/guard"
)

var errNoService = onair.Errorf(onair.ENotFound, "not available on this server")

// stream: /stream/{name}. Playlist files (.m3u, .pls) are served here for
// any station, live or not, since a player may be set up before the show;
// everything else is the relay's live stream.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if r.Method == http.MethodPut || r.Method == "SOURCE" {
		return s.source(w, r)
	}
	for _, pf := range playlistFiles {
		if slug, ok := strings.CutSuffix(name, pf.ext); ok {
			return s.playlistFile(w, r, slug, pf)
		}
	}
	release, err := s.guard.Hold(w, r, guard.Streams)
	if err != nil {
		return err
	}
	defer release()
	return serveIf(s.Stream, w, r)
}

// playlistFile is a kind of file that points a media player at a stream.
type playlistFile struct {
	ext         string
	contentType string
	body        func(url, name string) string
}

var playlistFiles = []playlistFile{
	{".m3u", "audio/x-mpegurl", func(url, name string) string {
		return "#EXTM3U\n#EXTINF:-1," + name + "\n" + url + "\n"
	}},
	{".pls", "audio/x-scpls", func(url, name string) string {
		return "[playlist]\nNumberOfEntries=1\nFile1=" + url + "\nTitle1=" + name + "\nLength1=-1\nVersion=2\n"
	}},
}

func (s *Server) playlistFile(w http.ResponseWriter, r *http.Request, slug string, pf playlistFile) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return errMethod
	}
	st, err := s.Control.Station(r.Context(), slug)
	if err != nil {
		return err
	}
	body := pf.body(s.baseURL(r)+"/stream/"+st.Slug, onair.OneLine(st.Name))
	h := w.Header()
	h.Set("Content-Type", pf.contentType)
	h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", st.Slug+pf.ext))
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte(body))
	}
	return nil
}

// serveIf hands the request to h, a part of the server that may not be
// wired (tests build the edge without it): then the route is not found.
func serveIf(h http.Handler, w http.ResponseWriter, r *http.Request) error {
	if h == nil {
		return errNoService
	}
	h.ServeHTTP(w, r)
	return nil
}

// status: GET /status-json.xsl, Icecast's status page, from the relay.
func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	return serveIf(s.Status, w, r)
}

// websocket: /ws, the signalling hub.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) error {
	release, err := s.guard.Hold(w, r, guard.Sockets)
	if err != nil {
		return err
	}
	if h, ok := s.WS.(socketServer); ok {
		h.ServeSocket(w, r, release)
		return nil
	}
	defer release()
	return serveIf(s.WS, w, r)
}

// socketServer is a /ws handler that keeps serving the socket after its
// request returns (the signalling hub does, so that the request's state
// is not kept as long as the socket); it calls released once the socket
// has closed, and the address's socket is counted until then.
type socketServer interface {
	ServeSocket(w http.ResponseWriter, r *http.Request, released func())
}

// metrics: GET /metrics in Prometheus text format.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if err := guard.CheckToken(w, r, s.MetricsToken); err != nil {
		return err
	}
	return serveIf(s.Metrics, w, r)
}

// healthz: GET /healthz answers while the server serves.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// config: GET /api/config, what browsers need before listening.
func (s *Server) config(w http.ResponseWriter, _ *http.Request) error {
	ice := s.ICEServers
	if ice == nil {
		ice = []string{}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"ice_servers": ice})
	return nil
}
