package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/icytest"
	"github.com/onairfm/onair/internal/testutil"
)

// liveRelay starts station "test" playing names and serves its stream.
func liveRelay(t *testing.T, r *Relay, names ...string) *httptest.Server {
	t.Helper()
	dir, tracks := mediaDir(t, names...)
	r.MediaDir = dir
	if err := r.Start(StationInfo{Slug: "test", Name: "Test FM", Description: "d", Genre: "Tones"}, tracks, PlayOptions{Loop: true}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stream/", r.ServeStream)
	mux.HandleFunc("/status-json.xsl", r.ServeStatus)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		r.Close()
		srv.Close()
	})
	return srv
}

// listen reads a station's stream with ICY metadata, as a media player
// does.
func listen(t *testing.T, ctx context.Context, url string) *icytest.Listener {
	t.Helper()
	return icytest.Listen(t, ctx, url, Metaint)
}

// tone is the dominant test tone of some MP3.
func tone(t *testing.T, mp3 []byte) float64 {
	t.Helper()
	return audiotest.ToneOfMP3(t, mp3, 440, 660, 880, 1000, 1320)
}

func TestHTTPListenerHearsTracksAndTitles(t *testing.T) {
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second}
	srv := liveRelay(t, r, "tone440.mp3", "tone880.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c := listen(t, ctx, srv.URL+"/stream/test")
	h := c.Resp.Header
	if h.Get("Content-Type") != "audio/mpeg" || h.Get("icy-name") != "Test FM" || h.Get("icy-genre") != "Tones" ||
		h.Get("icy-br") != "128" || !strings.HasSuffix(h.Get("icy-url"), "/stations/test") {
		t.Fatalf("headers %v", h)
	}
	c.ReadUntil("2 s of audio", func() bool { return len(c.Audio) >= 32000 })
	if got := c.Reader.Title(); got != "Test Artist - Tone 440" {
		t.Fatalf("title %q", got)
	}
	if f := tone(t, c.Audio); f != 440 {
		t.Fatalf("heard %v Hz, want 440", f)
	}

	if err := r.Skip("test"); err != nil {
		t.Fatal(err)
	}
	c.ReadUntil("the next title", func() bool { _, ok := c.TitleAt("Test Artist - Tone 880", 0); return ok })
	at, _ := c.TitleAt("Test Artist - Tone 880", 0)
	c.ReadUntil("2 s after the title change", func() bool { return int64(len(c.Audio)) >= at+32000 })
	if f := tone(t, c.Audio[at:]); f != 880 {
		t.Fatalf("after the title change heard %v Hz, want 880", f)
	}
}

func TestHTTPListenerRealTimeRateAndBurst(t *testing.T) {
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: 2 * time.Second}
	srv := liveRelay(t, r, "tone440.mp3", "tone880.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Let the station build up more than a burst of audio.
	testutil.Eventually(t, 10*time.Second, "3 s of playout", func() bool {
		return time.Since(r.Status("test").StartedAt) > 3*time.Second
	})

	c := listen(t, ctx, srv.URL+"/stream/test")
	c.ReadUntil("the burst", func() bool { return len(c.Audio) >= 2*16000 })
	// The burst went out at once: the mount, started for this listener,
	// published the last 2 s as its first chunk, which the listener's
	// first write carries. (Checked on the ring, not with a clock: on a
	// loaded machine, or under the race detector, rendering 2 s of the
	// past may itself take seconds.)
	s := r.get("test")
	var first *chunk
	if err := s.do(func() bool {
		chunks := held(s, mountMP3)
		if len(chunks) > 0 {
			first = chunks[0]
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if first == nil || first.dur < 1900*time.Millisecond {
		t.Fatalf("the mount's first chunk %+v, want the whole 2 s burst in it", first)
	}
	if raceDetector {
		return // the race detector's station is barely real time: no pace to check
	}
	// Then real time: 128 kbit/s is 16000 bytes/s.
	from, t0 := len(c.Audio), time.Now()
	c.ReadUntil("4 more seconds", func() bool { return len(c.Audio) >= from+4*16000 })
	rate := float64(len(c.Audio)-from) / time.Since(t0).Seconds()
	if rate < 16000*0.85 || rate > 16000*1.15 {
		t.Fatalf("received %.0f bytes/s, want about 16000", rate)
	}
}

func TestHTTPListenerWithoutMetadata(t *testing.T) {
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second}
	srv := liveRelay(t, r, "tone880.mp3")
	resp, err := http.Get(srv.URL + "/stream/test.mp3")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("icy-metaint") != "" {
		t.Fatal("metaint without Icy-MetaData")
	}
	audio := make([]byte, 32000)
	if _, err := io.ReadFull(resp.Body, audio); err != nil {
		t.Fatal(err)
	}
	if f := tone(t, audio); f != 880 {
		t.Fatalf("heard %v", f)
	}
}

func TestStreamNotLiveAndStop(t *testing.T) {
	rec := &recorder{}
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second, Publisher: rec}
	srv := liveRelay(t, r, "tone440.mp3")

	resp, err := http.Get(srv.URL + "/stream/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown station: %d", resp.StatusCode)
	}

	resp, err = http.Get(srv.URL + "/stream/test")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	testutil.Eventually(t, 5*time.Second, "the listener to be counted", func() bool { return r.Status("test").Listeners.HTTP == 1 })
	if err := r.Stop("test"); err != nil {
		t.Fatal(err)
	}
	// The stream ends.
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open after stop")
	}
	resp2, err := http.Get(srv.URL + "/stream/test")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotFound {
		t.Fatalf("stopped station: %d", resp2.StatusCode)
	}
	if err := r.Stop("test"); !errors.Is(err, ErrNotLive) {
		t.Fatalf("second stop: %v", err)
	}
	var kinds []onair.EventKind
	for _, ev := range rec.all() {
		if ev.Kind != onair.EventListeners {
			kinds = append(kinds, ev.Kind)
		}
	}
	if len(kinds) < 3 || kinds[0] != onair.EventStarted || kinds[1] != onair.EventMetadata || kinds[len(kinds)-1] != onair.EventStopped {
		t.Fatalf("events %v", kinds)
	}
}

func TestSlowListenerIsDropped(t *testing.T) {
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second, MaxLag: time.Second, SendBuffer: 4096}
	srv := liveRelay(t, r, "tone440-320k.mp3")

	// A client that asks for the stream and never reads, with a tiny
	// receive window.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		return err
	}}
	conn, err := d.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /stream/test HTTP/1.1\r\nHost: x\r\n\r\n")
	testutil.Eventually(t, 5*time.Second, "the listener to be counted", func() bool { return r.Status("test").Listeners.HTTP == 1 })

	// A good listener alongside keeps getting audio.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	good := listen(t, ctx, srv.URL+"/stream/test")

	testutil.Eventually(t, 20*time.Second, "the slow listener to be dropped", func() bool { return r.stats.httpDropped.Load() == 1 })
	if n := r.Status("test").Listeners.HTTP; n != 1 {
		t.Fatalf("%d listeners after the drop, want the good one", n)
	}
	good.ReadUntil("audio after the drop", func() bool { return len(good.Audio) >= 200000 })
}

func TestStatusJSON(t *testing.T) {
	r := &Relay{ChunkDuration: 100 * time.Millisecond}
	srv := liveRelay(t, r, "tone440.mp3")
	resp, err := http.Get(srv.URL + "/status-json.xsl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`"source":[{`, `"listenurl":"` + srv.URL + `/stream/test"`, `"server_name":"Test FM"`, `"title":"Test Artist - Tone 440"`, `"bitrate":128`, `"listeners":0`, `"stream_start_iso8601":"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("status lacks %s: %s", want, body)
		}
	}
	r.Stop("test")
	resp, err = http.Get(srv.URL + "/status-json.xsl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"source":[]`) {
		t.Fatalf("with nothing live: %s", body)
	}
}

func TestBaseURL(t *testing.T) {
	for _, c := range []struct {
		public, proto, want string
	}{
		{"", "", "http://radio.test"},
		{"", "https", "https://radio.test"}, // set by the web edge for a trusted proxy
		{"https://example.org/", "", "https://example.org"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/stream/x", nil)
		req.Host = "radio.test"
		if c.proto != "" {
			req.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if got := baseURL(req, c.public); got != c.want {
			t.Errorf("baseURL(public %q, proto %q) = %q, want %q", c.public, c.proto, got, c.want)
		}
	}
}
