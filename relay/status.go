package relay

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/onairfm/onair"
)

// icestats is the body of Icecast's /status-json.xsl, which monitoring
// tools and directory scrapers read.
type icestats struct {
	Icestats struct {
		Admin       string          `json:"admin"`
		Host        string          `json:"host"`
		ServerID    string          `json:"server_id"`
		ServerStart string          `json:"server_start_iso8601"`
		Source      []icecastSource `json:"source"`
	} `json:"icestats"`
}

type icecastSource struct {
	ListenURL         string `json:"listenurl"`
	ServerName        string `json:"server_name"`
	ServerDescription string `json:"server_description"`
	Genre             string `json:"genre"`
	Title             string `json:"title"`
	Listeners         int    `json:"listeners"`
	Bitrate           int    `json:"bitrate"`
	ServerType        string `json:"server_type"`
	StreamStart       string `json:"stream_start_iso8601"`
}

// serverStart is when the process started, as Icecast's status page shows.
var serverStart = time.Now()

// ServeStatus serves GET /status-json.xsl in Icecast's format. source is
// always a list, empty when nothing is live.
func (r *Relay) ServeStatus(w http.ResponseWriter, req *http.Request) {
	var out icestats
	out.Icestats.Admin = "icemaster@localhost"
	out.Icestats.Host = req.Host
	out.Icestats.ServerID = "onair"
	out.Icestats.ServerStart = serverStart.Format(time.RFC3339)
	out.Icestats.Source = []icecastSource{}
	base := baseURL(req, r.PublicURL)

	r.mu.Lock()
	live := make([]*station, 0, len(r.stations))
	for _, s := range r.stations {
		live = append(live, s)
	}
	r.mu.Unlock()
	slices.SortFunc(live, func(a, b *station) int { return strings.Compare(a.slug, b.slug) })

	for _, s := range live {
		info := s.stationInfo()
		src := icecastSource{
			ListenURL:         base + "/stream/" + s.slug,
			ServerName:        info.Name,
			ServerDescription: info.Description,
			Genre:             info.Genre,
			Listeners:         s.listenerCounts().Total(),
			Bitrate:           int((s.bitrate.Load() + 500) / 1000),
			ServerType:        "audio/mpeg",
			StreamStart:       s.start.UTC().Format(time.RFC3339),
		}
		if np := s.nowPlaying(); np != nil {
			src.Title = onair.DisplayTitle(np.Artist, np.Title)
		}
		out.Icestats.Source = append(out.Icestats.Source, src)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(out) // the client went away
}
