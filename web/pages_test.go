package web

import (
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"testing"
)

func TestPagesServed(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		path   string
		status int
		ctype  string
		page   bool   // HTML page: security headers expected
		holds  string // a string the body must contain
	}{
		{"/", 200, "text/html; charset=utf-8", true, "/static/js/directory.js"},
		{"/dashboard", 200, "text/html; charset=utf-8", true, "/static/js/dashboard.js"},
		{"/stations/" + e.slug, 200, "text/html; charset=utf-8", true, "/static/js/player.js"},
		// Unknown station: the same shell (it says "not found" itself)
		// with the status scripts and crawlers expect.
		{"/stations/no-such-station", 404, "text/html; charset=utf-8", true, "/static/js/player.js"},
		{"/static/js/player.js", 200, "text/javascript; charset=utf-8", false, "onairPlayer"},
		{"/static/js/signal.js", 200, "text/javascript; charset=utf-8", false, "stream:join"},
		{"/static/css/onair.css", 200, "text/css; charset=utf-8", false, ":focus-visible"},
		{"/static/favicon.svg", 200, "image/svg+xml", false, "<svg"},
	} {
		resp, body := e.do("GET", c.path, "", nil, nil)
		h := resp.Header
		if resp.StatusCode != c.status || h.Get("Content-Type") != c.ctype {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, resp.StatusCode, h.Get("Content-Type"), c.status, c.ctype)
		}
		if !strings.Contains(string(body), c.holds) {
			t.Errorf("GET %s: body lacks %q", c.path, c.holds)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", c.path)
		}
		csp := h.Get("Content-Security-Policy")
		if c.page {
			for _, d := range []string{"script-src 'self'", "default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("GET %s: CSP %q lacks %q", c.path, csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("GET %s: CSP %q allows inline code", c.path, csp)
			}
		} else if csp != "" {
			t.Errorf("GET %s: CSP on an asset: %q", c.path, csp)
		}
	}
}

func TestPagesKeepErrorsJSON(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/nope", http.StatusNotFound, ""},
		{"GET", "/static/nope.js", http.StatusNotFound, ""},
		{"GET", "/static/", http.StatusNotFound, ""},
		{"GET", "/static/js", http.StatusNotFound, ""},
		{"GET", "/stations/a/b", http.StatusNotFound, ""},
		{"POST", "/dashboard", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"DELETE", "/", http.StatusMethodNotAllowed, "GET, HEAD"},
	} {
		resp, body := e.as("", c.method, c.path, nil)
		wantError(t, resp, body, c.status)
		if got := resp.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	// An escaped "..": never a file outside static/.
	resp, body := e.as("", "GET", "/static/%2e%2e/pages/index.html", nil)
	if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "<html") {
		t.Errorf("escaped ..: %d %.80q", resp.StatusCode, body)
	}
}

func TestPagesRevalidate(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.do("GET", "/static/js/dom.js", "", nil, nil)
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	resp, body := e.do("GET", "/static/js/dom.js", "", nil, http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("revalidation: %d with %d bytes, want 304", resp.StatusCode, len(body))
	}
	resp, body = e.do("HEAD", "/", "", nil, nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD /: %d, %d bytes, CSP %q", resp.StatusCode, len(body), resp.Header.Get("Content-Security-Policy"))
	}
}

var (
	assetRef     = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	importRef    = regexp.MustCompile(`from '(\./[^']+)'`)
	// Sinks that parse HTML from a string; the pages render data as text.
	htmlSink = regexp.MustCompile(`\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser)\b`)
)

// TestPageSources checks what the CSP and the text-only rule need of the
// sources: every referenced file exists, no inline script or style, and no
// HTML-parsing sink anywhere in the scripts.
func TestPageSources(t *testing.T) {
	e := newEnv(t)
	pages, _ := fs.Glob(pageFiles, "pages/*.html")
	if len(pages) != 4 {
		t.Fatalf("pages %v, want 4", pages)
	}
	for _, p := range pages {
		b, _ := pageFiles.ReadFile(p)
		html := string(b)
		for _, tag := range inlineScript.FindAllString(html, -1) {
			// Vendored libraries (static/vendor) come as their authors
			// ship them: a classic script, still external.
			vendor := strings.Contains(tag, ` src="/static/vendor/`)
			if !strings.Contains(tag, ` src="`) || (!strings.Contains(tag, `type="module"`) && !vendor) {
				t.Errorf("%s: %s is not an external module", p, tag)
			}
		}
		if strings.Contains(html, "<style") || strings.Contains(html, " style=") || strings.Contains(html, " onclick=") {
			t.Errorf("%s: inline style or handler (the CSP blocks it)", p)
		}
		for _, m := range assetRef.FindAllStringSubmatch(html, -1) {
			if resp, _ := e.do("GET", m[1], "", nil, nil); resp.StatusCode != http.StatusOK {
				t.Errorf("%s references %s: %d", p, m[1], resp.StatusCode)
			}
		}
	}
	scripts, _ := fs.Glob(pageFiles, "static/js/*.js")
	if len(scripts) < 5 {
		t.Fatalf("scripts %v", scripts)
	}
	for _, s := range scripts {
		b, _ := pageFiles.ReadFile(s)
		if m := htmlSink.FindString(string(b)); m != "" {
			t.Errorf("%s uses %s: render data with textContent", s, m)
		}
		for _, m := range importRef.FindAllStringSubmatch(string(b), -1) {
			if _, err := fs.Stat(pageFiles, path.Join(path.Dir(s), m[1])); err != nil {
				t.Errorf("%s imports %s: %v", s, m[1], err)
			}
		}
	}
}
