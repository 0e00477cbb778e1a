package relay

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay/icy"
)

// Metaint is the number of audio bytes between two ICY metadata blocks.
const Metaint = 16000

// ServeStream serves GET /stream/{slug} and /stream/{slug}.mp3, the live
// MP3 stream, and /stream/{slug}.opus, the same mix as Ogg/Opus, Icecast
// style. A station that is not on air answers 404, as Icecast does for a
// mount with no source.
//
// The connection is taken over from net/http: the listener then needs no
// chunked encoding and no response buffer, and its audio goes out with one
// vectored write per chunk. It runs on the handler's goroutine, which
// returns when the listener is gone.
func (r *Relay) ServeStream(w http.ResponseWriter, req *http.Request) {
	slug := strings.TrimPrefix(req.URL.Path, "/stream/")
	kind := mountMP3
	if name, ok := strings.CutSuffix(slug, ".opus"); ok {
		slug, kind = name, mountOgg
	} else {
		slug = strings.TrimSuffix(slug, ".mp3")
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	s := r.get(slug)
	if s == nil {
		writeError(w, http.StatusNotFound, "station is not live")
		return
	}
	metaint := 0
	// Ogg carries its titles in its own headers (OpusTags), as Icecast's
	// Ogg mounts do: no ICY blocks there.
	if kind == mountMP3 && strings.TrimSpace(req.Header.Get("Icy-MetaData")) == "1" {
		metaint = Metaint
	}
	head := s.header(req, kind, metaint)
	if req.Method == http.MethodHead {
		for k, v := range head {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if hj, ok := w.(http.Hijacker); ok {
		c, rw, err := hj.Hijack()
		if err != nil {
			s.log.Warn("hijack failed", "err", err)
			return
		}
		if tc, ok := c.(*net.TCPConn); ok && s.r.SendBuffer > 0 {
			_ = tc.SetWriteBuffer(s.r.SendBuffer)
		}
		if err := writeRawHeader(c, rw, head); err != nil {
			_ = c.Close()
			return
		}
		// The listener runs on this goroutine, so the request lasts as
		// long as the listener: what the web edge holds for it (the
		// client address's stream slot) is held until it goes.
		s.serve(kind, c, c, metaint, true, req.UserAgent())
		return
	}
	// Servers that cannot hand the connection over (HTTP/2): stream through
	// the ResponseWriter on this goroutine.
	for k, v := range head {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	s.serve(kind, flushWriter{w: w, rc: rc}, nil, metaint, true, req.UserAgent())
}

// header is the Icecast-style response header for a new listener.
func (s *station) header(req *http.Request, kind mountKind, metaint int) http.Header {
	info := s.stationInfo()
	h := http.Header{}
	if kind == mountOgg {
		h.Set("Content-Type", "audio/ogg")
	} else {
		h.Set("Content-Type", "audio/mpeg")
	}
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "Mon, 26 Jul 1997 05:00:00 GMT")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("icy-name", onair.OneLine(info.Name))
	h.Set("icy-description", onair.OneLine(info.Description))
	h.Set("icy-genre", onair.OneLine(info.Genre))
	h.Set("icy-url", baseURL(req, s.r.PublicURL)+"/stations/"+s.slug)
	h.Set("icy-pub", "0")
	br := s.bitrate.Load()
	if kind == mountOgg {
		br = int64(s.r.Opus.withDefaults().Bitrate)
	}
	if br > 0 {
		h.Set("icy-br", strconv.FormatInt((br+500)/1000, 10))
	}
	if metaint > 0 {
		h.Set("icy-metaint", strconv.Itoa(metaint))
	}
	return h
}

// serve adds a listener to a mount of the station. With wait it runs the
// listener on the calling goroutine; otherwise on its own, owned by the
// station.
func (s *station) serve(kind mountKind, w conn, closer net.Conn, metaint int, wait bool, userAgent string) {
	m := s.mounts[kind]
	l := &listener{
		conn:   w,
		ring:   m.ring,
		maxLag: s.r.maxLag(),
	}
	if metaint > 0 {
		l.framer = icy.NewFramer(metaint)
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		if closer != nil {
			_ = closer.Close()
		}
		return
	}
	// Under mu: the station clears the ring only with no listener on the
	// mount, so the burst chosen here stays valid. A mount that is not
	// encoding yet has an empty ring: the listener starts at the burst the
	// station hands out when it wakes the encoder.
	l.next = m.ring.burstStart(s.r.burst())
	m.listeners++
	s.listeners[l] = w
	s.wg.Add(1)
	s.mu.Unlock()
	s.nudge()
	s.httpCount.Add(1)
	s.publishListeners()
	s.r.stats.httpConnects.Add(1)
	sess := s.sessionStarted(onair.TransportHTTP, userAgent)

	run := func() {
		defer s.wg.Done()
		err := l.run(s.ctx)
		if closer != nil {
			_ = closer.Close()
		}
		s.mu.Lock()
		delete(s.listeners, l)
		m.listeners--
		s.mu.Unlock()
		s.nudge()
		s.httpCount.Add(-1)
		s.publishListeners()
		s.sessionEnded(sess)
		s.r.stats.bytesSent.Add(l.sent)
		if errors.Is(err, errTooSlow) {
			s.r.stats.httpDropped.Add(1)
			s.log.Info("dropped a listener that fell behind")
		}
	}
	if wait {
		run()
		return
	}
	go run()
}

// writeRawHeader writes the response head on a hijacked connection. The
// status line is HTTP/1.0 as Icecast's: the body ends when the connection
// does.
func writeRawHeader(c net.Conn, rw *bufio.ReadWriter, h http.Header) error {
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	rw.Writer.Reset(c)
	// A bufio.Writer keeps its first error: Flush reports it.
	_, _ = rw.WriteString("HTTP/1.0 200 OK\r\n")
	_ = h.Write(rw)
	_, _ = rw.WriteString("Connection: close\r\n\r\n")
	if err := rw.Flush(); err != nil {
		return fmt.Errorf("relay: write header: %w", err)
	}
	return nil
}

// flushWriter streams through an http.ResponseWriter.
type flushWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, f.rc.Flush()
}

func (f flushWriter) SetWriteDeadline(t time.Time) error { return f.rc.SetWriteDeadline(t) }

// baseURL is the server's address as the client reached it, or the
// configured public URL.
func baseURL(req *http.Request, public string) string {
	if public != "" {
		return strings.TrimSuffix(public, "/")
	}
	// The web edge strips X-Forwarded-Proto from everyone but trusted
	// proxies and sets it when the client came over https.
	scheme := "http"
	if req.TLS != nil || req.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + req.Host
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg}) // the client went away
}
