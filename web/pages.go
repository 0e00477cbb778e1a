package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/onairfm/onair"
)

// The pages are plain HTML shells (pages/) and the JavaScript modules, CSS
// and icon they load (static/), built into the binary: no build step, and
// nothing to install beside it.
//
//go:embed pages/*.html static
var pageFiles embed.FS

// pageCSP is the Content-Security-Policy of every page. Scripts and styles
// come only from the server's own files (no inline code), so an injected
// tag can neither run nor style anything; connect-src 'self' covers the
// page's WebSocket (ws: and wss: to the same host, per CSP level 3).
// Trusted Types make any assignment of a string to innerHTML or a similar
// sink throw, a second guard behind the pages' rule of text-only rendering.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; " +
	"manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// loadAssets reads every embedded file once. The files never change while
// the binary runs, so each gets a strong ETag from its content: browsers
// revalidate (Cache-Control: no-cache) and get 304 until an upgrade.
var loadAssets = sync.OnceValues(func() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(pageFiles, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := pageFiles.ReadFile(name)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		out[name] = asset{body: body, contentType: ctype, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load embedded pages: %w", err)
	}
	return out, nil
})

// routePages mounts the pages: the station directory at "/", the player at
// "/stations/{slug}", the owners' dashboard at "/dashboard" and the files
// they load under "/static/". Any other path no route claims answers 404
// in JSON.
func (s *Server) routePages(mux *http.ServeMux) {
	s.mount(mux, []route{
		{"GET", "/{$}", s.page("pages/index.html")},
		{"GET", "/stations/{slug}", s.playerPage},
		{"GET", "/dashboard", s.page("pages/dashboard.html")},
		{"GET", "/setup", s.page("pages/setup.html")},
		{"GET", "/static/{file...}", s.static},
	})
	mux.Handle("/", s.api(func(http.ResponseWriter, *http.Request) error { return errNoPage }))
}

// page serves one HTML shell; the page's module fills it from the API.
func (s *Server) page(name string) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return serveAsset(w, r, name, true)
	}
}

// playerPage serves the player shell for any slug, with status 404 when
// there is no such station: people get a page that says so (the page
// learns it from the API), crawlers and scripts get the status.
func (s *Server) playerPage(w http.ResponseWriter, r *http.Request) error {
	if s.Control != nil {
		_, err := s.Control.Station(r.Context(), r.PathValue("slug"))
		switch {
		case onair.ErrorCode(err) == onair.ENotFound:
			return serveAssetStatus(w, r, "pages/player.html", http.StatusNotFound)
		case err != nil:
			// The page reports what the API says; the shell itself is fine.
			s.logger().Warn("player page: look up station", "slug", r.PathValue("slug"), "err", err)
		}
	}
	return serveAsset(w, r, "pages/player.html", true)
}

// static serves the pages' scripts, styles and icon.
func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	name := path.Clean("static/" + r.PathValue("file"))
	if !strings.HasPrefix(name, "static/") {
		return errNoPage
	}
	return serveAsset(w, r, name, false)
}

// serveAsset answers an embedded file with its ETag, honouring
// If-None-Match, Range and HEAD. Pages also get the security headers.
func serveAsset(w http.ResponseWriter, r *http.Request, name string, isPage bool) error {
	a, err := findAsset(name)
	if err != nil {
		return err
	}
	setAssetHeaders(w, a, isPage)
	w.Header().Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	return nil
}

// serveAssetStatus answers a page with a status other than 200; such an
// answer is never cached or revalidated.
func serveAssetStatus(w http.ResponseWriter, r *http.Request, name string, status int) error {
	a, err := findAsset(name)
	if err != nil {
		return err
	}
	setAssetHeaders(w, a, true)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", fmt.Sprint(len(a.body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
	return nil
}

func findAsset(name string) (asset, error) {
	all, err := loadAssets()
	if err != nil {
		return asset{}, err
	}
	a, ok := all[name]
	if !ok {
		return asset{}, errNoPage
	}
	return a, nil
}

func setAssetHeaders(w http.ResponseWriter, a asset, isPage bool) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	if isPage {
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
	}
}
