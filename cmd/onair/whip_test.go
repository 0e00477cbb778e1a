package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/client"
	"github.com/onairfm/onair/internal/loopback"
	"github.com/onairfm/onair/internal/testutil"
)

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// sineFrames fills frame i of a sine of freq Hz, mono.
func sineFrames(freq, amp float64) func(i int, pcm []float32) {
	return func(i int, pcm []float32) {
		for n := range pcm {
			pcm[n] = float32(amp * math.Sin(2*math.Pi*freq*float64(i*client.FrameSamples+n)/48000))
		}
	}
}

// toneIn is the strongest of the test tones and the live 1 kHz in mono
// samples at rate.
func toneIn(samples []float64, rate int) (float64, float64) {
	return audiotest.Dominant(samples, float64(rate), 440, 880, 1000)
}

// mp3Tone is the tone of the last second of an MP3 stream's bytes.
func mp3Tone(t *testing.T, mp3 []byte) float64 {
	t.Helper()
	s, rate, err := audiotest.DecodeMP3(mp3)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > rate {
		s = s[len(s)-rate:]
	}
	f, share := toneIn(s, rate)
	if share < 0.5 {
		t.Fatalf("no clear tone (best %v Hz, %.2f)", f, share)
	}
	return f
}

// sourceOf reads the station's live source from its status.
func (s *server) sourceOf(slug string) (kind, streamer string) {
	s.t.Helper()
	var st struct {
		Source *struct{ Kind, Streamer string }
	}
	s.must(200, "GET", "/api/stations/"+slug, "", nil, &st)
	if st.Source == nil {
		return "", ""
	}
	return st.Source.Kind, st.Source.Streamer
}

func TestWHIPPublisherIsHeardOnEveryOutput(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Live FM", "tone440.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	sock := s.dial(t, "")
	sock.Send("stream:join", map[string]string{"station": slug})
	rtcL := listenRTC(t, sock, slug, true)
	httpL := listenICY(t, ctx, s.URL+"/stream/"+slug)
	httpL.ReadUntil("the playlist's title", func() bool { _, ok := httpL.TitleAt("Test Artist - Tone 440", 0); return ok })

	endpoint := s.URL + "/api/stations/" + slug + "/whip"
	p, err := client.PublishWHIP(ctx, endpoint, bearer(tok), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.Location, endpoint+"/") {
		t.Fatalf("Location %q", p.Location)
	}
	sctx, stop := context.WithCancel(ctx)
	sent := make(chan error, 1)
	go func() { sent <- p.Stream(sctx, sineFrames(1000, 0.3)) }()
	defer func() {
		stop()
		if err := <-sent; err != nil {
			t.Error(err)
		}
	}()
	if err := p.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	// The HTTP listener: the streamer's name as title, then the tone.
	httpL.ReadUntil("the streamer's title", func() bool { _, ok := httpL.TitleAt("deejay", 0); return ok })
	at, _ := httpL.TitleAt("deejay", 0)
	httpL.ReadUntil("2 s of live audio", func() bool { return int64(len(httpL.Audio)) >= at+2*16000 })
	if f := mp3Tone(t, httpL.Audio[at:at+2*16000]); f != 1000 {
		t.Fatalf("HTTP listener heard %v Hz, want the publisher's 1000", f)
	}
	if kind, who := s.sourceOf(slug); kind != "whip" || who != "deejay" {
		t.Fatalf("station JSON source %q %q, want whip by deejay", kind, who)
	}
	// The WebRTC listener: the tone within the last second.
	testutil.Eventually(t, 10*time.Second, "the tone on WebRTC", func() bool {
		now := time.Now()
		f, share := toneIn(rtcL.Samples(now.Add(-time.Second), now), 48000)
		return f == 1000 && share > 0.5
	})

	// A second source, and people who may not broadcast here.
	other := s.owner("other")
	for _, c := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no credentials", nil, http.StatusUnauthorized},
		{"an unknown token", bearer("nope"), http.StatusUnauthorized},
		{"another owner", bearer(other), http.StatusForbidden},
		{"the admin, while the owner is live", bearer(s.admin), http.StatusConflict},
	} {
		_, err := client.PublishWHIP(ctx, endpoint, c.header, 1)
		var we *client.WHIPError
		if !errors.As(err, &we) || we.Status != c.want {
			t.Fatalf("%s: %v, want %d", c.name, err, c.want)
		}
		var body struct{ Error string }
		if json.Unmarshal([]byte(we.Body), &body) != nil || body.Error == "" {
			t.Fatalf("%s: body %q is not a JSON error", c.name, we.Body)
		}
	}
	// Only those who may broadcast may end the session.
	req, _ := http.NewRequest("DELETE", p.Location, nil)
	req.Header.Set("Authorization", "Bearer "+other)
	if got := s.send(req, nil); got != http.StatusForbidden {
		t.Fatalf("DELETE by another owner: %d", got)
	}

	// DELETE gives the air back to the playlist.
	if status, err := p.Delete(ctx); err != nil || status != http.StatusOK {
		t.Fatalf("DELETE: %d %v", status, err)
	}
	if kind, _ := s.sourceOf(slug); kind != "" {
		t.Fatalf("source %q after DELETE", kind)
	}
	httpL.ReadUntil("the playlist's title again", func() bool {
		n := 0
		for _, m := range httpL.Metas() {
			if m.Full && m.Title == "Test Artist - Tone 440" {
				n++
			}
		}
		return n >= 2
	})
	start := int64(len(httpL.Audio))
	httpL.ReadUntil("2 s of playlist audio", func() bool { return int64(len(httpL.Audio)) >= start+2*16000 })
	if f := mp3Tone(t, httpL.Audio[start:]); f != 440 {
		t.Fatalf("after DELETE heard %v Hz, want the playlist's 440", f)
	}
	if status, _ := p.Delete(ctx); status != http.StatusNotFound {
		t.Fatalf("second DELETE: %d, want 404", status)
	}
	// The source's metrics.
	m := metricsOf(t, s.URL)
	if m["onair_source_connects_total"] != 1 || m["onair_source_disconnects_total"] != 1 ||
		m["onair_source_received_bytes_total"] < 10000 || m["onair_source_decode_errors_total"] != 0 {
		t.Fatalf("source metrics %v", m)
	}
}

// metricsOf reads the onair_source_* counters of /metrics.
func metricsOf(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if ok && strings.HasPrefix(name, "onair_source_") {
			out[name], _ = strconv.ParseFloat(value, 64)
		}
	}
	return out
}

func TestWHIPRefusesBadOffers(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Strict FM", "tone440.mp3")
	endpoint := s.URL + "/api/stations/" + slug + "/whip"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	offerOf := func(codec webrtc.RTPCodecParameters, kind webrtc.RTPCodecType) string {
		m := &webrtc.MediaEngine{}
		if err := m.RegisterCodec(codec, kind); err != nil {
			t.Fatal(err)
		}
		se := webrtc.SettingEngine{}
		loopback.Configure(&se)
		pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
		o, err := pc.CreateOffer(nil)
		if err != nil {
			t.Fatal(err)
		}
		return o.SDP
	}
	vp8 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
	pcmu := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}
	for _, c := range []struct {
		name, contentType, body string
		want                    int
	}{
		{"not SDP", "application/json", `{"sdp":"v=0"}`, http.StatusUnsupportedMediaType},
		{"garbage", "application/sdp", "hello", http.StatusBadRequest},
		{"video only", "application/sdp", offerOf(vp8, webrtc.RTPCodecTypeVideo), http.StatusBadRequest},
		{"PCMU audio", "application/sdp", offerOf(pcmu, webrtc.RTPCodecTypeAudio), http.StatusUnsupportedMediaType},
		{"too large", "application/sdp", "v=0\r\n" + strings.Repeat("a=x\r\n", 20000), http.StatusRequestEntityTooLarge},
	} {
		status, h, body, err := client.PostOffer(ctx, endpoint, bearer(tok), c.contentType, c.body)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		if status != c.want || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
			t.Fatalf("%s: %d %q %s, want %d and a JSON error", c.name, status, h.Get("Content-Type"), body, c.want)
		}
		t.Logf("%s: %d %s", c.name, status, e.Error)
	}
	if kind, _ := s.sourceOf(slug); kind != "" {
		t.Fatalf("a refused offer left source %q", kind)
	}
	// Trickle is not offered: PATCH on a session answers 405.
	req, _ := http.NewRequest("PATCH", endpoint+"/0123", strings.NewReader("a=candidate"))
	req.Header.Set("Authorization", "Bearer "+tok)
	if got := s.send(req, nil); got != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %d, want 405", got)
	}
}

func basic(user, password string) http.Header {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, password)
	return req.Header
}

func TestWHIPStreamerByBasicAuth(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Guest FM", "tone440.mp3")
	other := s.owner("other")
	var otherSt struct{ Slug string }
	s.must(201, "POST", "/api/stations", other, map[string]string{"name": "Other FM"}, &otherSt)
	s.must(201, "POST", "/api/stations/"+slug+"/streamers", tok, map[string]string{"username": "guest", "password": "guest-password", "display_name": "DJ Guest"}, nil)
	s.must(201, "POST", "/api/stations/"+otherSt.Slug+"/streamers", other, map[string]string{"username": "stranger", "password": "stranger-password"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	endpoint := s.URL + "/api/stations/" + slug + "/whip"

	for _, c := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"a wrong password", basic("guest", "nope-nope-nope"), http.StatusUnauthorized},
		{"an unknown streamer", basic("nobody", "guest-password"), http.StatusUnauthorized},
		{"another station's streamer", basic("stranger", "stranger-password"), http.StatusForbidden},
	} {
		_, err := client.PublishWHIP(ctx, endpoint, c.header, 1)
		var we *client.WHIPError
		if !errors.As(err, &we) || we.Status != c.want {
			t.Fatalf("%s: %v, want %d", c.name, err, c.want)
		}
	}

	p, err := client.PublishWHIP(ctx, endpoint, basic("guest", "guest-password"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sctx, stop := context.WithCancel(ctx)
	sent := make(chan error, 1)
	go func() {
		sent <- p.Stream(sctx, func(i int, pcm []float32) {
			for n := 0; n < len(pcm); n += 2 {
				v := float32(0.3 * math.Sin(2*math.Pi*1000*float64(i*client.FrameSamples+n/2)/48000))
				pcm[n], pcm[n+1] = v, v
			}
		})
	}()
	defer func() {
		stop()
		if err := <-sent; err != nil {
			t.Error(err)
		}
	}()
	testutil.Eventually(t, 10*time.Second, "the streamer on air", func() bool {
		kind, who := s.sourceOf(slug)
		return kind == "whip" && who == "DJ Guest"
	})
	httpL := listenICY(t, ctx, s.URL+"/stream/"+slug)
	httpL.ReadUntil("the streamer's title", func() bool { _, ok := httpL.TitleAt("DJ Guest", 0); return ok })
	at, _ := httpL.TitleAt("DJ Guest", 0)
	httpL.ReadUntil("2 s of live audio", func() bool { return int64(len(httpL.Audio)) >= at+2*16000 })
	if f := mp3Tone(t, httpL.Audio[at:at+2*16000]); f != 1000 {
		t.Fatalf("heard %v Hz, want the streamer's 1000", f)
	}
	// The streamer's own credentials end the session; so would the owner's.
	if status, err := p.Delete(ctx); err != nil || status != http.StatusOK {
		t.Fatalf("DELETE: %d %v", status, err)
	}
	if kind, _ := s.sourceOf(slug); kind != "" {
		t.Fatalf("source %q after DELETE", kind)
	}
}
