package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/client"
	"github.com/onairfm/onair/internal/testutil"
)

// sourceClient is a legacy Icecast source (SOURCE, as butt and old
// libshout send it) written here: it sends an MP3 file's frames in real
// time, frame by frame, over and over, until stopped.
type sourceClient struct {
	conn net.Conn
	stop chan struct{}
	done chan struct{}
}

func startSourceClient(t *testing.T, addr, mount, user, password string, file []byte) *sourceClient {
	t.Helper()
	return startSourceClientWith(t, addr, mount, user, password, file, true, 200*time.Millisecond, nil)
}

// startSourceClientWith sends file once or in a loop, at most lead ahead
// of real time, calling wrote (if set) with each frame's index and when it
// was written.
func startSourceClientWith(t *testing.T, addr, mount, user, password string, file []byte, loop bool, lead time.Duration, wrote func(int, time.Time)) *sourceClient {
	t.Helper()
	type frame struct {
		data []byte
		d    time.Duration
	}
	var frames []frame
	sc := mp3.NewScanner(bytes.NewReader(file))
	for {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame{append([]byte(nil), f.Data...), f.Duration()})
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, password)
	head := "SOURCE " + mount + " HTTP/1.0\r\nAuthorization: " + req.Header.Get("Authorization") +
		"\r\nContent-Type: audio/mpeg\r\nice-name: Test show\r\n\r\n"
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	status, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.0 200 OK") {
		t.Fatalf("source answer %q, %v", status, err)
	}
	s := &sourceClient{conn: c, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		start := time.Now()
		var sent time.Duration
		tick := time.NewTicker(10 * time.Millisecond) // a sender's pace
		defer tick.Stop()
		for i := 0; loop || i < len(frames); i++ {
			for sent > time.Since(start)+lead {
				select {
				case <-s.stop:
					return
				case <-tick.C:
				}
			}
			f := frames[i%len(frames)]
			if _, err := c.Write(f.data); err != nil {
				return
			}
			if wrote != nil {
				wrote(i, time.Now())
			}
			sent += f.d
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *sourceClient) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.conn.Close()
	<-s.done
}

// TestIcecastSourceIsHeardOnEveryOutput: a streamer's source client takes
// the air from the playlist for HTTP and WebRTC listeners, its updinfo
// titles reach ICY and the sockets, and the playlist comes back when it
// leaves.
func TestIcecastSourceIsHeardOnEveryOutput(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("alice")
	slug, _ := s.liveStation(tok, "Source FM", "tone440.mp3")
	s.must(201, "POST", "/api/stations/"+slug+"/streamers", tok,
		map[string]string{"username": "deejay", "password": "password1", "display_name": "DJ Night"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	events := s.dial(t, "")
	events.Send("stream:join", map[string]string{"station": slug})
	sock := s.dial(t, "")
	sock.Send("stream:join", map[string]string{"station": slug})
	rtcL := listenRTC(t, sock, slug, true)
	httpL := listenICY(t, ctx, s.URL+"/stream/"+slug)
	httpL.ReadUntil("the playlist's title", func() bool { _, ok := httpL.TitleAt("Test Artist - Tone 440", 0); return ok })

	u, _ := url.Parse(s.URL)
	src := startSourceClient(t, u.Host, "/stream/"+slug, "deejay", "password1", fixture(t, "tone1000-vbr.mp3").data)

	if _, err := events.Wait(ctx, "stream:source", func(m client.Message) bool {
		var d struct {
			Station string
			Source  *struct{ Kind, Streamer string }
		}
		return m.Decode(&d) == nil && d.Station == slug && d.Source != nil && d.Source.Kind == "icecast" && d.Source.Streamer == "DJ Night"
	}); err != nil {
		t.Fatal(err)
	}
	httpL.ReadUntil("the streamer's title", func() bool { _, ok := httpL.TitleAt("DJ Night", 0); return ok })
	at, _ := httpL.TitleAt("DJ Night", 0)
	// The source has the air within a second of its title (the takeover
	// fade and the feed's prebuffer come first): listen after that.
	httpL.ReadUntil("3 s of live audio", func() bool { return int64(len(httpL.Audio)) >= at+3*16000 })
	if f := mp3Tone(t, httpL.Audio[at+16000:at+3*16000]); f != 1000 {
		t.Fatalf("HTTP listener heard %v Hz, want the source's 1000", f)
	}
	if kind, who := s.sourceOf(slug); kind != "icecast" || who != "DJ Night" {
		t.Fatalf("station JSON source %q %q", kind, who)
	}
	testutil.Eventually(t, 20*time.Second, "the tone on WebRTC", func() bool {
		now := time.Now()
		f, share := toneIn(rtcL.Samples(now.Add(-time.Second), now), 48000)
		return f == 1000 && share > 0.5
	})

	// The source names what it plays, as butt does on a track change.
	q := url.Values{"mount": {"/stream/" + slug}, "mode": {"updinfo"}, "song": {"Night Artist - Night Song"}}
	req, _ := http.NewRequest("GET", s.URL+"/admin/metadata?"+q.Encode(), nil)
	req.SetBasicAuth("deejay", "password1")
	if got := s.send(req, nil); got != 200 {
		t.Fatalf("updinfo: %d", got)
	}
	httpL.ReadUntil("the updinfo title", func() bool { _, ok := httpL.TitleAt("Night Artist - Night Song", 0); return ok })
	if _, err := events.Wait(ctx, "stream:metadata", func(m client.Message) bool {
		var d struct{ Title, Artist string }
		return m.Decode(&d) == nil && d.Title == "Night Song" && d.Artist == "Night Artist"
	}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the source metrics to move", func() bool {
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "onair_source_connects_total 1") &&
			!strings.Contains(string(b), "onair_source_received_bytes_total 0\n")
	})

	// The source leaves: the playlist is back on every output.
	src.close()
	if _, err := events.Wait(ctx, "stream:source", func(m client.Message) bool {
		return strings.Contains(string(m.Data), `"source":null`)
	}); err != nil {
		t.Fatal(err)
	}
	from := int64(len(httpL.Audio))
	httpL.ReadUntil("2 s of playlist audio", func() bool { return int64(len(httpL.Audio)) >= from+3*16000 })
	if f := mp3Tone(t, httpL.Audio[from+16000:]); f != 440 {
		t.Fatalf("after the source left heard %v Hz, want the playlist's 440", f)
	}
	testutil.Eventually(t, 20*time.Second, "the playlist on WebRTC", func() bool {
		now := time.Now()
		f, share := toneIn(rtcL.Samples(now.Add(-time.Second), now), 48000)
		return f == 440 && share > 0.5
	})
	if kind, _ := s.sourceOf(slug); kind != "" {
		t.Fatalf("source %q after it left", kind)
	}

	// History keeps the live segment: the streamer's name, then the title
	// it sent, both as source "live", newest first.
	testutil.Eventually(t, 10*time.Second, "the live segment in the history", func() bool {
		var h struct {
			History []struct {
				Title, Artist, Source string
				TrackID               *int64 `json:"track_id"`
			}
		}
		s.must(200, "GET", "/api/stations/"+slug+"/history?limit=10", "", nil, &h)
		var live []string
		for _, e := range h.History {
			if e.Source == "live" {
				live = append(live, e.Artist+"|"+e.Title)
			}
		}
		return slices.Equal(live, []string{"Night Artist|Night Song", "|DJ Night"}) &&
			h.History[0].Source == "playlist"
	})
}
