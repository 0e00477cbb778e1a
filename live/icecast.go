package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/limit"
	"github.com/onairfm/onair/relay"
)

// DefaultReadTimeout is how long a source may send nothing before its
// connection is closed, when Sources.ReadTimeout is 0. The relay gives the
// air back to the playlist after 5 s of silence already; this frees the
// connection of a client that is gone without a word.
const DefaultReadTimeout = 10 * time.Second

// maxAhead is how far ahead of real time a source may send before its
// reads wait: a client that pushes a file as fast as it can is slowed to
// real time by TCP, rather than decoded for nothing and dropped. It stays
// below the relay's one second of feed buffer, which drops the oldest
// audio past it.
const maxAhead = 600 * time.Millisecond

// Source logins per client address: each costs a bcrypt check, so a
// client guessing passwords is slowed to one a second after a burst. A DJ
// connects once and sends a title per track, far below it.
const (
	loginsPerSecond = 1.0
	loginBurst      = 30
)

// realm is the Basic auth realm Icecast answers with; some clients look
// for it.
const realm = `Basic realm="Icecast2 Server"`

// Authenticator checks a streamer's credentials for a station;
// *control.Service is one.
type Authenticator interface {
	AuthStreamer(ctx context.Context, slug, username, password string) (*onair.Streamer, error)
}

// Sources accepts Icecast source clients and their metadata updates. Set
// Auth and Relay; call Close at shutdown, since the HTTP server does not
// track the connections a source takes over.
type Sources struct {
	Auth   Authenticator
	Relay  *relay.Relay
	Logger *slog.Logger
	// ReadTimeout closes a source that sends nothing for this long; 0
	// means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Now is the clock for pacing; nil means time.Now.
	Now func() time.Time

	limitOnce sync.Once
	logins    *limit.Rate[string]

	mu      sync.Mutex
	on      map[string]*session // Icecast sources on air, by station
	conns   map[net.Conn]struct{}
	closed  bool
	running sync.WaitGroup
}

// session is one source on air.
type session struct {
	feed     *relay.Feed
	streamer *onair.Streamer
}

func (s *Sources) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Sources) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sources) readTimeout() time.Duration {
	if s.ReadTimeout > 0 {
		return s.ReadTimeout
	}
	return DefaultReadTimeout
}

// ServeHTTP answers PUT and SOURCE on /stream/{slug} (a source) and GET
// /admin/metadata (its titles).
func (s *Sources) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPut || r.Method == "SOURCE":
		s.serveSource(w, r)
	case r.URL.Path == "/admin/metadata":
		s.serveMetadata(w, r)
	default:
		plain(w, http.StatusNotFound, "Not found")
	}
}

// Close drops every source and waits for their connections to end.
func (s *Sources) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.running.Wait()
	return nil
}

// mountSlug reads a station from a mount: /stream/{slug}, also with the
// .mp3, .ogg or .opus a client may add, or Icecast's plain /{slug}.
func mountSlug(mount string) string {
	slug := strings.TrimPrefix(mount, "/")
	slug = strings.TrimPrefix(slug, "stream/")
	for _, ext := range []string{".mp3", ".ogg", ".opus"} {
		slug = strings.TrimSuffix(slug, ext)
	}
	if slug == "" || strings.ContainsAny(slug, "/?#") {
		return ""
	}
	return slug
}

// plain writes an Icecast-style plain text answer.
func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
}

// login checks the request's Basic credentials for slug and answers the
// refusal itself: 401 (with Icecast's realm) for missing or wrong ones,
// 403 for another station's streamer, 404 for no such station.
func (s *Sources) login(w http.ResponseWriter, r *http.Request, slug string, log *slog.Logger) (*onair.Streamer, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		log.Info("live source without credentials refused")
		w.Header()["WWW-Authenticate"] = []string{realm} // as Icecast spells it
		plain(w, http.StatusUnauthorized, "Authentication required")
		return nil, false
	}
	s.limitOnce.Do(func() { s.logins = limit.NewRate[string](loginsPerSecond, loginBurst) })
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ok, wait := s.logins.Allow(host, s.now()); !ok {
		log.Warn("live source login refused: too many attempts", "user", user)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		plain(w, http.StatusTooManyRequests, "Too many attempts")
		return nil, false
	}
	st, err := s.Auth.AuthStreamer(r.Context(), slug, user, pass)
	switch onair.ErrorCode(err) {
	case "":
		return st, true
	case onair.EUnauthorized:
		log.Warn("live source login failed", "user", user)
		w.Header()["WWW-Authenticate"] = []string{realm} // as Icecast spells it
		plain(w, http.StatusUnauthorized, "Authentication required")
	case onair.EForbidden:
		log.Warn("live source login for another station", "user", user)
		plain(w, http.StatusForbidden, "Forbidden: this streamer may not broadcast here")
	case onair.ENotFound:
		plain(w, http.StatusNotFound, "Mountpoint not found")
	default:
		log.Error("live source login", "user", user, "err", err)
		plain(w, http.StatusInternalServerError, "Internal error")
	}
	return nil, false
}

func (s *Sources) serveSource(w http.ResponseWriter, r *http.Request) {
	slug := mountSlug(r.URL.Path)
	log := s.logger().With("station", slug, "remote", r.RemoteAddr, "method", r.Method)
	if slug == "" || !strings.HasPrefix(r.URL.Path, "/stream/") {
		plain(w, http.StatusNotFound, "Mountpoint not found")
		return
	}
	streamer, ok := s.login(w, r, slug, log)
	if !ok {
		return
	}
	log = log.With("streamer", streamer.Username)
	ct := r.Header.Get("Content-Type")
	if _, err := newDecoder(ct, nil); err != nil {
		log.Info("live source refused", "err", err)
		plain(w, http.StatusUnsupportedMediaType, "Content-type not supported: send audio/mpeg or audio/ogg (Opus or Vorbis)")
		return
	}
	st := s.Relay.Status(slug)
	if !st.Live {
		// Icecast answers a mount it does not serve this way; a station
		// that is off air has no stream to take over.
		log.Info("live source refused: station not live")
		plain(w, http.StatusNotFound, "Mountpoint not found: start the station first")
		return
	}
	if st.Source != nil {
		log.Info("live source refused: another source is live", "on_air", st.Source.Streamer)
		plain(w, http.StatusForbidden, "Mountpoint in use")
		return
	}
	conn, body, err := s.accept(w, r)
	if err != nil {
		log.Warn("live source: cannot take the connection", "err", err)
		return
	}
	if !s.track(conn) {
		_ = conn.Close()
		return
	}
	defer s.untrack(conn)
	log.Info("live source connected", "content_type", ct)
	err = s.run(conn, body, ct, slug, streamer, log)
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		log.Info("live source disconnected")
	case errors.Is(err, errSourceLost):
		log.Info("live source lost the air: it stalled, or the station stopped")
	case errors.Is(err, relay.ErrSourceBusy):
		log.Info("live source dropped: another source took the air first")
	case isTimeout(err):
		log.Warn("live source dropped: it sent nothing", "timeout", s.readTimeout())
	default:
		log.Warn("live source dropped", "err", err)
	}
}

// errSourceLost is the relay taking the air back: the feed is done.
var errSourceLost = errors.New("live: the source lost the air")

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// accept takes the connection over from net/http and says yes: 100
// Continue when the client asked for it, then 200 at once, since legacy
// SOURCE clients send nothing before they see it. The body is read raw
// (a source sends neither a length nor chunks, as often as not), with the
// bytes net/http had buffered first.
func (s *Sources) accept(w http.ResponseWriter, r *http.Request) (net.Conn, io.Reader, error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("live: hijack: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	_ = conn.SetWriteDeadline(s.now().Add(s.readTimeout()))
	var out strings.Builder
	if r.ProtoAtLeast(1, 1) && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		out.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	}
	out.WriteString("HTTP/1.0 200 OK\r\nServer: onair\r\nConnection: close\r\n\r\n")
	if _, err := io.WriteString(conn, out.String()); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("live: answer the source: %w", err)
	}
	_ = conn.SetWriteDeadline(time.Time{})
	var in io.Reader = &deadlineReader{r: brw.Reader, conn: conn, timeout: s.readTimeout()}
	switch {
	case slices.Contains(r.TransferEncoding, "chunked"):
		in = httputil.NewChunkedReader(bufio.NewReader(in))
	case r.ContentLength > 0:
		in = io.LimitReader(in, r.ContentLength)
	}
	return conn, in, nil
}

// deadlineReader sets a read deadline before every read, so a source that
// stops sending is noticed.
type deadlineReader struct {
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
	n       int64
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	_ = d.conn.SetReadDeadline(time.Now().Add(d.timeout))
	n, err := d.r.Read(p)
	d.n += int64(n)
	return n, err
}

func (s *Sources) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.running.Add(1)
	return true
}

func (s *Sources) untrack(c net.Conn) {
	_ = c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.running.Done()
}

// run decodes the source into its station until it ends, and gives the
// air back.
func (s *Sources) run(conn net.Conn, body io.Reader, ct, slug string, streamer *onair.Streamer, log *slog.Logger) error {
	counted := &countReader{r: body}
	dec, err := newDecoder(ct, counted)
	if err != nil {
		return err
	}
	pcm, err := dec.decode()
	if err != nil {
		return err
	}
	rate, ch := dec.format()
	feed, err := s.Relay.GoLive(slug, onair.LiveSource{Kind: onair.LiveIcecast, Streamer: streamer.Name()}, rate, ch)
	if err != nil {
		return err
	}
	defer feed.Close()
	sess := &session{feed: feed, streamer: streamer}
	s.mu.Lock()
	if s.on == nil {
		s.on = map[string]*session{}
	}
	s.on[slug] = sess
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.on[slug] == sess {
			delete(s.on, slug)
		}
		s.mu.Unlock()
	}()
	log.Info("live source on air", "codec", dec.codec(), "rate", rate, "channels", ch)

	// The relay ends the feed when the source stalls or the station
	// stops; closing the connection ends the read that waits.
	stop := make(chan struct{})
	watched := make(chan struct{})
	lost := false
	var lostMu sync.Mutex
	go func() {
		defer close(watched)
		select {
		case <-feed.Done():
			lostMu.Lock()
			lost = true
			lostMu.Unlock()
			_ = conn.Close()
		case <-stop:
		}
	}()
	defer func() { close(stop); <-watched }()

	start := s.now()
	var sent time.Duration
	for {
		if n := counted.take(); n > 0 {
			feed.CountBytes(n)
		}
		if a, t, ok := dec.title(); ok {
			_ = feed.SetTitle(onair.OneLine(a), onair.OneLine(t))
		}
		feed.Write(pcm)
		sent += time.Duration(len(pcm)/ch) * time.Second / time.Duration(rate)
		if ahead := sent - s.now().Sub(start); ahead > maxAhead {
			t := time.NewTimer(ahead - maxAhead/2)
			select {
			case <-t.C:
			case <-feed.Done():
				t.Stop()
			}
		}
		pcm, err = dec.decode()
		if err != nil {
			if errors.Is(err, ErrDecode) || errors.Is(err, ErrGarbage) {
				feed.CountDecodeError()
			}
			lostMu.Lock()
			l := lost
			lostMu.Unlock()
			if l {
				return errSourceLost
			}
			return err
		}
	}
}

// countReader counts the bytes a source sent, for the metrics.
type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func (c *countReader) take() int {
	n := c.n
	c.n = 0
	return n
}
