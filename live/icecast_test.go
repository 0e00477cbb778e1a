package live

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/audiotest"
)

// frames is a fixture's MPEG audio frames without tags or its info frame,
// so it can be sent over and over as one stream.
func frames(t *testing.T, name string) []byte {
	t.Helper()
	s := mp3.NewScanner(bytes.NewReader(audiotest.Fixture(t, name)))
	var out []byte
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f.Data...)
	}
}

// startSource connects a raw source client with the given request head,
// checks it is accepted, and sends body (looping) until the test ends or
// stop is closed. The server paces it to real time.
func startSource(t *testing.T, e *env, head string, body []byte, rate int, chunked bool) (stop func()) {
	t.Helper()
	s, resp := dialSource(t, e.addr(), head)
	if strings.HasPrefix(resp, "HTTP/1.1 100") {
		resp = s.readHead(t)
	}
	if !strings.HasPrefix(resp, "HTTP/1.0 200 OK") {
		t.Fatalf("source refused: %q", resp)
	}
	_ = s.conn.SetReadDeadline(time.Time{})
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var w io.Writer = s.conn
		if chunked {
			cw := httputil.NewChunkedWriter(s.conn)
			defer cw.Close()
			w = cw
		}
		_, _ = io.Copy(w, &loopReader{data: body, stop: ch, rate: rate})
	}()
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		close(ch)
		s.conn.Close()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

func TestSourceTakesTheAirAndGivesItBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		head    string
		chunked bool
	}{
		{"legacy SOURCE", sourceHead("SOURCE", "/stream/test", basic("deejay", "password1"), "audio/mpeg", "ice-name: Night"), false},
		{"PUT raw", sourceHead("PUT", "/stream/test", basic("deejay", "password1"), "audio/mpeg"), false},
		{"PUT chunked with Expect", sourceHead("PUT", "/stream/test.mp3", basic("deejay", "password1"), "audio/mpeg",
			"Expect: 100-continue", "Transfer-Encoding: chunked"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			l := listen(t, ctx, e.srv.URL+"/stream/test")
			hears(t, l, "the playlist", 0, 440)

			stop := startSource(t, e, tc.head, frames(t, "tone1320.mp3"), 16000, tc.chunked)
			l.ReadUntil("the streamer's name as title", func() bool { _, ok := l.TitleAt("DJ Test", 0); return ok })
			at, _ := l.TitleAt("DJ Test", 0)
			hears(t, l, "the source", at, 1320)
			if st := e.r.Status("test"); st.Source == nil || st.Source.Kind != onair.LiveIcecast || st.Source.Streamer != "DJ Test" {
				t.Fatalf("status while live: %+v", st.Source)
			}

			// Icecast's metadata call names what the source plays.
			q := url.Values{"mount": {"/stream/test"}, "mode": {"updinfo"}, "song": {"Live Artist - Live Song"}}
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/metadata?"+q.Encode(), nil)
			req.SetBasicAuth("deejay", "password1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), "<return>1</return>") {
				t.Fatalf("updinfo: %d %s", resp.StatusCode, b)
			}
			l.ReadUntil("the updinfo title", func() bool { _, ok := l.TitleAt("Live Artist - Live Song", 0); return ok })
			waitFor(t, "the title event", func() bool {
				return e.ev.has(func(ev onair.Event) bool {
					return ev.Kind == onair.EventMetadata && ev.NowPlaying != nil && ev.NowPlaying.Source == onair.SourceLive &&
						ev.NowPlaying.Artist == "Live Artist" && ev.NowPlaying.Title == "Live Song"
				})
			})

			stop()
			from := int64(len(l.Audio))
			l.ReadUntil("the playlist's title", func() bool { _, ok := l.TitleAt("Test Artist - Tone 440", from); return ok })
			back, _ := l.TitleAt("Test Artist - Tone 440", from)
			hears(t, l, "the playlist again", back, 440)
			waitFor(t, "no source in the status", func() bool { return e.r.Status("test").Source == nil })
			if !e.ev.has(func(ev onair.Event) bool { return ev.Kind == onair.EventSource && ev.Source == nil }) {
				t.Error("no source event for the fallback")
			}
		})
	}
}

// TestMPEG25Source: a source sending 8 kHz MPEG-2.5 (16 kbit/s mono, as
// low-bandwidth encoders do) is decoded and heard in the station's stream.
func TestMPEG25Source(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	l := listen(t, ctx, e.srv.URL+"/stream/test")
	startSource(t, e, sourceHead("PUT", "/stream/test", basic("deejay", "password1"), "audio/mpeg"),
		frames(t, "mpeg25-8k.mp3"), 2000, false)
	l.ReadUntil("the streamer's name as title", func() bool { _, ok := l.TitleAt("DJ Test", 0); return ok })
	at, _ := l.TitleAt("DJ Test", 0)
	const second = 16000 // the station's 128 kbit/s
	l.ReadUntil("2 s of the source", func() bool { return int64(len(l.Audio)) >= at+2*second })
	if f := audiotest.ToneOfMP3(t, l.Audio[at+second:at+2*second], 300, 440); f != 300 {
		t.Fatalf("heard %v Hz, want the source's 300", f)
	}
	if st := e.r.Status("test"); st.Source == nil || st.Source.Kind != onair.LiveIcecast {
		t.Fatalf("status while live: %+v", st.Source)
	}
}

func TestSourceRefusals(t *testing.T) {
	e := newEnv(t)
	good := basic("deejay", "password1")
	for _, tc := range []struct {
		name, head string
		status     string
		realm      bool
	}{
		{"no credentials", sourceHead("PUT", "/stream/test", "", "audio/mpeg"), "401", true},
		{"wrong password", sourceHead("PUT", "/stream/test", basic("deejay", "nope"), "audio/mpeg"), "401", true},
		{"unknown streamer on SOURCE", sourceHead("SOURCE", "/stream/test", basic("source", "hackme"), "audio/mpeg"), "401", true},
		{"another station's streamer", sourceHead("PUT", "/stream/test", basic("guest", "password3"), "audio/mpeg"), "403", false},
		{"unknown station", sourceHead("PUT", "/stream/nope", good, "audio/mpeg"), "404", false},
		{"station not live", sourceHead("PUT", "/stream/quiet", good, "audio/mpeg"), "404", false},
		{"unsupported type", sourceHead("PUT", "/stream/test", good, "audio/aac"), "415", false},
		{"no type", sourceHead("PUT", "/stream/test", good, ""), "415", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp := dialSource(t, e.addr(), tc.head)
			if !strings.Contains(strings.SplitN(resp, "\r\n", 2)[0], " "+tc.status+" ") {
				t.Fatalf("answer %q, want %s", resp, tc.status)
			}
			if got := strings.Contains(resp, `WWW-Authenticate: Basic realm="Icecast2 Server"`); got != tc.realm {
				t.Fatalf("realm in %q: %v, want %v", resp, got, tc.realm)
			}
		})
	}
	if st := e.r.Status("test"); st.Source != nil {
		t.Fatalf("a refused source is on air: %+v", st.Source)
	}
}

func TestSecondSourceIsRefusedWhileOneIsLive(t *testing.T) {
	e := newEnv(t)
	startSource(t, e, sourceHead("PUT", "/stream/test", basic("deejay", "password1"), "audio/mpeg"), frames(t, "tone1320.mp3"), 16000, false)
	waitFor(t, "the source on air", func() bool { return e.r.Status("test").Source != nil })
	_, resp := dialSource(t, e.addr(), sourceHead("SOURCE", "/stream/test", basic("deejay", "password1"), "audio/mpeg"))
	if !strings.HasPrefix(resp, "HTTP/1.0 403") || !strings.Contains(resp, "Mountpoint in use") {
		// The body follows the head; read it for the message.
		t.Logf("answer head %q", resp)
	}
	if !strings.Contains(resp, " 403 ") {
		t.Fatalf("second source: %q, want 403", resp)
	}
	if st := e.r.Status("test"); st.Source == nil || st.Source.Streamer != "DJ Test" {
		t.Fatalf("the first source lost the air: %+v", st.Source)
	}
}

func TestMetadataRefusals(t *testing.T) {
	e := newEnv(t)
	get := func(q url.Values, user, pw string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/metadata?"+q.Encode(), nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	upd := url.Values{"mount": {"/test"}, "mode": {"updinfo"}, "song": {"A - B"}}
	for _, tc := range []struct {
		name     string
		q        url.Values
		user, pw string
		code     int
	}{
		{"no credentials", upd, "", "", 401},
		{"wrong password", upd, "deejay", "x", 401},
		{"another station's streamer", upd, "guest", "password3", 403},
		{"no mount", url.Values{"mode": {"updinfo"}}, "deejay", "password1", 400},
		{"other mode", url.Values{"mount": {"/test"}, "mode": {"killsource"}}, "deejay", "password1", 400},
		{"no source on air", upd, "deejay", "password1", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := get(tc.q, tc.user, tc.pw); code != tc.code {
				t.Fatalf("%d %s, want %d", code, body, tc.code)
			}
		})
	}
}

// TestLoginsAreRateLimited: a client guessing passwords gets 429 after a
// burst, before any more bcrypt work.
func TestLoginsAreRateLimited(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.src.Now = func() time.Time { return now } // the bucket does not refill
	var codes []int
	for range loginBurst + 2 {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/metadata?mount=/test&mode=updinfo&song=x", nil)
		req.SetBasicAuth("deejay", "guess")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[loginBurst-1] != 401 || codes[loginBurst] != 429 || codes[loginBurst+1] != 429 {
		t.Fatalf("codes %v: want %d × 401, then 429", codes, loginBurst)
	}
}
