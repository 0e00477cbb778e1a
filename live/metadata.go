package live

import (
	"encoding/xml"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/onairfm/onair"
)

// maxSong bounds a title sent with updinfo, in bytes.
const maxSong = 1024

// serveMetadata answers Icecast's GET /admin/metadata?mount=...&mode=updinfo
// &song=Artist%20-%20Title with the credentials of a streamer of that
// station, and sets the title of the source it has on air. artist= and
// title= are taken in place of song=, and charset=ISO-8859-1 (or a song
// that is not UTF-8) is read as Latin-1, as Icecast does for MP3 mounts.
func (s *Sources) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		iceResponse(w, http.StatusMethodNotAllowed, "Method not allowed", false)
		return
	}
	q := r.URL.Query()
	slug := mountSlug(q.Get("mount"))
	log := s.logger().With("station", slug, "remote", r.RemoteAddr)
	if slug == "" {
		iceResponse(w, http.StatusBadRequest, "Missing parameter: mount", false)
		return
	}
	streamer, ok := s.login(w, r, slug, log)
	if !ok {
		return
	}
	if q.Get("mode") != "updinfo" {
		iceResponse(w, http.StatusBadRequest, "Unsupported mode: use updinfo", false)
		return
	}
	charset := q.Get("charset")
	text := func(v string) string {
		if len(v) > maxSong {
			v = v[:maxSong]
		}
		if strings.EqualFold(charset, "ISO-8859-1") || strings.EqualFold(charset, "latin1") || !utf8.ValidString(v) {
			v = latin1(v)
		}
		return strings.TrimSpace(onair.OneLine(v))
	}
	artist, title := text(q.Get("artist")), text(q.Get("title"))
	if song := text(q.Get("song")); song != "" {
		artist, title = "", song
		if a, t, ok := strings.Cut(song, " - "); ok {
			artist, title = strings.TrimSpace(a), strings.TrimSpace(t)
		}
	}
	s.mu.Lock()
	sess := s.on[slug]
	s.mu.Unlock()
	if sess == nil {
		iceResponse(w, http.StatusBadRequest, "Source does not exist", false)
		return
	}
	if err := sess.feed.SetTitle(artist, title); err != nil {
		iceResponse(w, http.StatusBadRequest, "Source does not exist", false)
		return
	}
	log.Info("live title", "streamer", streamer.Username, "artist", artist, "title", title)
	iceResponse(w, http.StatusOK, "Metadata update successful", true)
}

// latin1 reads s as ISO-8859-1.
func latin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// iceResponse writes Icecast's admin answer: an <iceresponse> with a
// message and 1 for success, 0 for failure.
func iceResponse(w http.ResponseWriter, code int, msg string, ok bool) {
	ret := "0"
	if ok {
		ret = "1"
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"iceresponse"`
		Message string   `xml:"message"`
		Return  string   `xml:"return"`
	}{Message: msg, Return: ret})
}
