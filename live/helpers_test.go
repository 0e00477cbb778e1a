package live

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/icytest"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/relay"
)

// fakeAuth knows streamer "deejay" (password "password1", shown as
// "DJ Test") of station "test", and "guest" of another station.
type fakeAuth struct{}

func (fakeAuth) AuthStreamer(_ context.Context, slug, user, pw string) (*onair.Streamer, error) {
	switch {
	case slug != "test" && slug != "quiet":
		return nil, onair.Errorf(onair.ENotFound, "station %q not found", slug)
	case user == "deejay" && pw == "password1":
		return &onair.Streamer{Username: "deejay", DisplayName: "DJ Test"}, nil
	case user == "guest" && pw == "password3":
		return nil, onair.Errorf(onair.EForbidden, "another station's")
	}
	return nil, onair.Errorf(onair.EUnauthorized, "bad")
}

// events keeps what the relay publishes.
type events struct {
	mu  sync.Mutex
	all []onair.Event
}

func (e *events) Publish(ev onair.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) has(pred func(onair.Event) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.all {
		if pred(ev) {
			return true
		}
	}
	return false
}

type env struct {
	r   *relay.Relay
	src *Sources
	srv *httptest.Server
	ev  *events
}

// newEnv starts station "test" playing tone440.mp3, and serves its
// stream, its sources and their metadata as the server does.
func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tone440.mp3"), audiotest.Fixture(t, "tone440.mp3"), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	r := &relay.Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond, Burst: time.Second, Publisher: ev, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	tr := onair.Track{ID: 1, Title: "Tone 440", Artist: "Test Artist", Bitrate: 128000, SampleRate: 44100, Channels: 2,
		Duration: 8045 * time.Millisecond, Path: "tone440.mp3", Filename: "tone440.mp3"}
	if err := r.Start(relay.StationInfo{Slug: "test", Name: "Test FM"}, []onair.Track{tr}, relay.PlayOptions{Loop: true}); err != nil {
		t.Fatal(err)
	}
	src := &Sources{Auth: fakeAuth{}, Relay: r, ReadTimeout: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	mux := http.NewServeMux()
	mux.HandleFunc("/stream/", func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPut || req.Method == "SOURCE" {
			src.ServeHTTP(w, req)
			return
		}
		r.ServeStream(w, req)
	})
	mux.Handle("/admin/metadata", src)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		src.Close()
		srv.Close()
		r.Close()
	})
	return &env{r: r, src: src, srv: srv, ev: ev}
}

func (e *env) addr() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// waitFor polls cond until it holds, failing after a generous bound: the
// machine is busy, so no step is timed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawSource is a source client on a bare TCP connection.
type rawSource struct {
	conn net.Conn
	br   *bufio.Reader
}

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// dialSource sends a request head and returns the connection and the
// status line and headers of the first answer.
func dialSource(t *testing.T, addr, head string) (*rawSource, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	s := &rawSource{conn: c, br: bufio.NewReader(c)}
	return s, s.readHead(t)
}

func (s *rawSource) readHead(t *testing.T) string {
	t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	for {
		line, err := s.br.ReadString('\n')
		b.WriteString(line)
		if err != nil || line == "\r\n" {
			return b.String()
		}
	}
}

func sourceHead(method, path, auth, ctype string, extra ...string) string {
	h := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n", method, path)
	if method == "SOURCE" {
		h = fmt.Sprintf("SOURCE %s HTTP/1.0\r\n", path)
	}
	if auth != "" {
		h += "Authorization: " + auth + "\r\n"
	}
	if ctype != "" {
		h += "Content-Type: " + ctype + "\r\n"
	}
	for _, x := range extra {
		h += x + "\r\n"
	}
	return h + "\r\n"
}

// loopReader repeats data until stopped, at rate bytes a second (a
// little ahead), as a real source client sends.
type loopReader struct {
	data  []byte
	off   int
	stop  chan struct{}
	rate  int
	start time.Time
	sent  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.start.IsZero() {
		l.start = time.Now()
	}
	for {
		allowed := int((time.Since(l.start)+200*time.Millisecond).Seconds()*float64(l.rate)) - l.sent
		if allowed > 0 {
			p = p[:min(len(p), allowed)]
			break
		}
		select {
		case <-l.stop:
			return 0, io.EOF
		case <-time.After(20 * time.Millisecond): // the pace of a sender
		}
	}
	select {
	case <-l.stop:
		return 0, io.EOF
	default:
	}
	n := copy(p, l.data[l.off:])
	l.sent += n
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// listen reads a station's MP3 stream with ICY metadata, as a media
// player does.
func listen(t *testing.T, ctx context.Context, url string) *icytest.Listener {
	t.Helper()
	return icytest.Listen(t, ctx, url, relay.Metaint)
}

// tone is the dominant test tone of some MP3.
func tone(t *testing.T, mp3 []byte) float64 {
	t.Helper()
	return audiotest.ToneOfMP3(t, mp3, 440, 880, 1000, 1320)
}

// hears waits until a listener, from offset from on, has 2 s of audio
// whose second second is freq Hz: the switch has happened and settled.
func hears(t *testing.T, l *icytest.Listener, what string, from int64, freq float64) {
	t.Helper()
	const second = 16000 // 128 kbit/s
	l.ReadUntil(what, func() bool { return int64(len(l.Audio)) >= from+2*second })
	if f := tone(t, l.Audio[from+second:from+2*second]); f != freq {
		t.Fatalf("%s: heard %v Hz, want %v", what, f, freq)
	}
}

// encode makes a few seconds of a tone with ffmpeg in the given format.
func encode(t *testing.T, freq int, secs float64, args ...string) []byte {
	t.Helper()
	ff := testutil.NeedTool(t, "ffmpeg")
	cmd := exec.Command(ff, append([]string{"-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=%d:sample_rate=48000:duration=%v", freq, secs)}, append(args, "-")...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	return out.Bytes()
}
