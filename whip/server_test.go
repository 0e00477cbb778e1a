package whip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/client"
	"github.com/onairfm/onair/internal/loopback"
	"github.com/onairfm/onair/relay"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a relay playing station "test" (a 440 Hz tone), a whip Server
// over it with a loopback-only pion API, and an HTTP server with the WHIP
// routes and the station's stream.
type env struct {
	relay *relay.Relay
	whip  *Server
	srv   *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tone440.mp3"), audiotest.Fixture(t, "tone440.mp3"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &relay.Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond, Burst: 200 * time.Millisecond}
	track := onair.Track{ID: 1, Title: "Tone 440", Path: "tone440.mp3", Filename: "tone440.mp3", Bitrate: 128000, SampleRate: 44100, Channels: 2, Duration: 8045 * time.Millisecond}
	if err := r.Start(relay.StationInfo{Slug: "test", Name: "Test FM"}, []onair.Track{track}, relay.PlayOptions{Loop: true}); err != nil {
		t.Fatal(err)
	}
	api := testAPI(t)
	w := &Server{NewPeerConnection: func() (*webrtc.PeerConnection, error) { return api.NewPeerConnection(webrtc.Configuration{}) }, Relay: r}
	e := &env{relay: r, whip: w}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream/{slug}", r.ServeStream)
	mux.HandleFunc("POST /whip/{slug}", e.post)
	mux.HandleFunc("DELETE /whip/{slug}/{id}", e.delete)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = w.Close()
		_ = r.Close()
		e.srv.Close()
	})
	return e
}

// testAPI is a loopback-only pion API that knows Opus, as the server's.
func testAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
}

// post and delete are the WHIP edge, as web maps it.
func (e *env) post(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, answer, err := e.whip.Publish(r.Context(), r.PathValue("slug"), "DJ Test", string(body))
	if err != nil {
		http.Error(w, onair.ErrorMessage(err), map[onair.Code]int{onair.EInvalid: 400, onair.EUnsupported: 415, onair.EConflict: 409}[onair.ErrorCode(err)])
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/whip/"+r.PathValue("slug")+"/"+id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

func (e *env) delete(w http.ResponseWriter, r *http.Request) {
	if err := e.whip.End(r.PathValue("slug"), r.PathValue("id")); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// sine fills frame i of a sine of freq Hz.
func sine(freq float64, channels int) func(i int, pcm []float32) {
	return func(i int, pcm []float32) {
		for n := range len(pcm) / channels {
			v := float32(0.3 * math.Sin(2*math.Pi*freq*float64(i*client.FrameSamples+n)/48000))
			for c := range channels {
				pcm[n*channels+c] = v
			}
		}
	}
}

// heard reads d of the station's MP3 stream and returns the tone in its
// second half.
func (e *env) heard(t *testing.T, ctx context.Context, d time.Duration) float64 {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/stream/test", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, int(d.Seconds()*16000)) // 128 kbit/s
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	s, rate, err := audiotest.DecodeMP3(buf)
	if err != nil {
		t.Fatal(err)
	}
	f, share := audiotest.Dominant(s[len(s)/2:], float64(rate), 440, 1000)
	// Not 0.5: on a loaded machine under -race the station clock skips
	// ahead now and then, and each skip's click spreads energy.
	if share < 0.25 {
		t.Fatalf("no clear tone: %v Hz with %.2f of the energy", f, share)
	}
	return f
}

// waitSource waits until the station's source is (or is not) on air.
func (e *env) waitSource(t *testing.T, ctx context.Context, on bool) {
	t.Helper()
	waitUntil(t, ctx, fmt.Sprintf("waiting for the source on air = %v", on), func() bool {
		return (e.relay.Status("test").Source != nil) == on
	})
}

// waitNoSessions waits until the server holds no session, failing t with
// complaint if ctx ends first.
func (e *env) waitNoSessions(t *testing.T, ctx context.Context, complaint string) {
	t.Helper()
	waitUntil(t, ctx, complaint, func() bool { return e.whip.Sessions() == 0 })
}

// waitUntil polls cond every 20 ms until it holds, failing t with
// complaint if ctx ends first.
func waitUntil(t *testing.T, ctx context.Context, complaint string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal(complaint)
		case <-tick.C:
		}
	}
}

// connected publishes mono to station "test" through the HTTP endpoint and
// waits until the peer connection is up. The publisher is closed when t
// ends (again, if the test closed it).
func (e *env) connected(t *testing.T, ctx context.Context) *client.Publisher {
	t.Helper()
	p, err := client.PublishWHIP(ctx, e.srv.URL+"/whip/test", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if err := p.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// opusOffer is a publisher's offer of one sendonly Opus track.
func opusOffer(t *testing.T) string {
	t.Helper()
	return offer(t, func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection) {
		transceivers(t, pc(apiOf(t, m, opusCodec)), webrtc.RTPTransceiverDirectionSendonly, webrtc.RTPCodecTypeAudio)
	})
}

func TestPublishedToneTakesTheAirUntilDelete(t *testing.T) {
	for _, channels := range []int{1, 2} {
		t.Run(map[int]string{1: "mono", 2: "stereo"}[channels], func(t *testing.T) {
			e := newEnv(t)
			ctx := ctxFor(t, 60*time.Second)
			if f := e.heard(t, ctx, time.Second); f != 440 {
				t.Fatalf("before: %v Hz", f)
			}
			p, err := client.PublishWHIP(ctx, e.srv.URL+"/whip/test", nil, channels)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if !strings.HasPrefix(p.Location, e.srv.URL+"/whip/test/") {
				t.Fatalf("Location %q", p.Location)
			}
			if !strings.Contains(p.Answer, "a=candidate:") || !strings.Contains(p.Answer, "127.0.0.1") {
				t.Fatalf("answer without loopback candidates:\n%s", p.Answer)
			}
			sctx, stop := context.WithCancel(ctx)
			sent := make(chan error, 1)
			go func() { sent <- p.Stream(sctx, sine(1000, channels)) }()
			defer func() {
				stop()
				if err := <-sent; err != nil {
					t.Error(err)
				}
			}()
			if err := p.WaitConnected(ctx); err != nil {
				t.Fatal(err)
			}
			e.waitSource(t, ctx, true)
			src := e.relay.Status("test").Source
			if src == nil || src.Kind != onair.LiveWHIP || src.Streamer != "DJ Test" {
				t.Fatalf("source %+v", src)
			}
			if f := e.heard(t, ctx, 2*time.Second); f != 1000 {
				t.Fatalf("live: %v Hz, want the publisher's 1000", f)
			}
			if status, err := p.Delete(ctx); err != nil || status != http.StatusOK {
				t.Fatalf("DELETE: %d %v", status, err)
			}
			if e.relay.Status("test").Source != nil || e.whip.Sessions() != 0 {
				t.Fatal("the session outlived its DELETE")
			}
			if f := e.heard(t, ctx, 2*time.Second); f != 440 {
				t.Fatalf("after DELETE: %v Hz, want the playlist's 440", f)
			}
			if status, _ := p.Delete(ctx); status != http.StatusNotFound {
				t.Fatalf("second DELETE: %d, want 404", status)
			}
		})
	}
}

// offer makes a pion offer with the given codecs and transceivers.
func offer(t *testing.T, setup func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection)) string {
	t.Helper()
	m := &webrtc.MediaEngine{}
	var pc *webrtc.PeerConnection
	setup(m, func(api *webrtc.API) *webrtc.PeerConnection {
		var err error
		if pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
			t.Fatal(err)
		}
		return pc
	})
	defer pc.Close()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

func apiOf(t *testing.T, m *webrtc.MediaEngine, codecs ...webrtc.RTPCodecParameters) *webrtc.API {
	for _, c := range codecs {
		kind := webrtc.RTPCodecTypeAudio
		if strings.HasPrefix(c.MimeType, "video/") {
			kind = webrtc.RTPCodecTypeVideo
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

var (
	opusCodec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}
	pcmuCodec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}
	vp8Codec  = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
)

func transceivers(t *testing.T, pc *webrtc.PeerConnection, dir webrtc.RTPTransceiverDirection, kinds ...webrtc.RTPCodecType) {
	for _, k := range kinds {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: dir}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBadOffersAreRefusedAndLeaveTheAir(t *testing.T) {
	audio, video := webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo
	send, recv := webrtc.RTPTransceiverDirectionSendonly, webrtc.RTPTransceiverDirectionRecvonly
	tests := []struct {
		name string
		sdp  func(t *testing.T) string
		want error
		code onair.Code
	}{
		{"garbage", func(*testing.T) string { return "hello" }, ErrBadOffer, onair.EInvalid},
		{"empty", func(*testing.T) string { return "" }, ErrBadOffer, onair.EInvalid},
		{"data channel only", func(t *testing.T) string {
			return offer(t, func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection) {
				if _, err := pc(apiOf(t, m, opusCodec)).CreateDataChannel("x", nil); err != nil {
					t.Fatal(err)
				}
			})
		}, ErrNoAudio, onair.EInvalid},
		{"video only", func(t *testing.T) string {
			return offer(t, func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection) {
				transceivers(t, pc(apiOf(t, m, vp8Codec)), send, video)
			})
		}, ErrNoAudio, onair.EInvalid},
		{"audio it would only receive", func(t *testing.T) string {
			return offer(t, func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection) {
				transceivers(t, pc(apiOf(t, m, opusCodec)), recv, audio)
			})
		}, ErrNoAudio, onair.EInvalid},
		{"two audio tracks", func(t *testing.T) string {
			return offer(t, func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection) {
				transceivers(t, pc(apiOf(t, m, opusCodec)), send, audio, audio)
			})
		}, ErrTwoAudio, onair.EInvalid},
		{"PCMU audio", func(t *testing.T) string {
			return offer(t, func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection) {
				transceivers(t, pc(apiOf(t, m, pcmuCodec)), send, audio)
			})
		}, ErrCodec, onair.EUnsupported},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.whip.Publish(ctxFor(t, 10*time.Second), "test", "DJ", tt.sdp(t))
			if !errors.Is(err, tt.want) || onair.ErrorCode(err) != tt.code {
				t.Fatalf("got %v (%s), want %v (%s)", err, onair.ErrorCode(err), tt.want, tt.code)
			}
			if e.relay.Status("test").Source != nil || e.whip.Sessions() != 0 {
				t.Fatal("a refused offer took the air")
			}
		})
	}
}

func TestAudioAndVideoOfferGetsAudioOnly(t *testing.T) {
	e := newEnv(t)
	sdp := offer(t, func(m *webrtc.MediaEngine, pc func(*webrtc.API) *webrtc.PeerConnection) {
		transceivers(t, pc(apiOf(t, m, opusCodec, vp8Codec)), webrtc.RTPTransceiverDirectionSendonly, webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo)
	})
	id, answer, err := e.whip.Publish(ctxFor(t, 10*time.Second), "test", "DJ", sdp)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := (&webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}).Unmarshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range parsed.MediaDescriptions {
		if m.MediaName.Media == "video" && m.MediaName.Port.Value != 0 {
			if _, ok := m.Attribute("inactive"); !ok {
				t.Fatalf("video accepted:\n%s", answer)
			}
		}
	}
	if err := e.whip.End("test", id); err != nil {
		t.Fatal(err)
	}
}

func TestSecondSourceAndStationOffAir(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t, 30*time.Second)
	sdp := func() string { return opusOffer(t) }
	id, _, err := e.whip.Publish(ctx, "test", "DJ One", sdp())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.whip.Publish(ctx, "test", "DJ Two", sdp()); !errors.Is(err, ErrBusy) || onair.ErrorCode(err) != onair.EConflict {
		t.Fatalf("second source: %v", err)
	}
	if err := e.whip.End("other", id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("ending through another station: %v", err)
	}
	// The first has not sent a packet: the playlist keeps the air.
	if src := e.relay.Status("test").Source; src != nil {
		t.Fatalf("source %+v before any audio", src)
	}
	if _, _, err := e.whip.Publish(ctx, "nope", "DJ", sdp()); !errors.Is(err, ErrNotOnAir) {
		t.Fatalf("station off air: %v", err)
	}
	if err := e.whip.End("test", id); err != nil {
		t.Fatal(err)
	}
}

func TestPublisherThatGoesAwayEndsItsSession(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t, 60*time.Second)
	p := e.connected(t, ctx)
	// No DELETE: the peer closes (or, had it vanished, stops sending).
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	e.waitSource(t, ctx, false)
	e.waitNoSessions(t, ctx, "the session outlived its peer")
}

func TestPublisherThatStopsSendingLosesTheAir(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t, 60*time.Second)
	p := e.connected(t, ctx)
	// A second of audio, then nothing, with the peer left open: the feed
	// stalls after 5 s and the session ends with it.
	sctx, stop := context.WithTimeout(ctx, time.Second)
	defer stop()
	if err := p.Stream(sctx, sine(1000, 1)); err != nil {
		t.Fatal(err)
	}
	e.waitSource(t, ctx, false)
	e.waitNoSessions(t, ctx, "the session outlived its stalled feed")
	if p.PC().ConnectionState() == webrtc.PeerConnectionStateConnected {
		// The server closed its side; the publisher hears it sooner or
		// later, which is its own business.
		t.Log("publisher still sees a connected peer")
	}
}

func FuzzCheckOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 sprop-stereo=1\r\n")
	f.Add("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")
	f.Add("hello")
	f.Fuzz(func(t *testing.T, sdp string) {
		a, err := checkOffer(sdp)
		if err == nil && a.channels != 1 && a.channels != 2 {
			t.Fatalf("channels %d", a.channels)
		}
		if err != nil && onair.ErrorCode(err) == onair.EInternal {
			t.Fatalf("an offer's fault reads as internal: %v", err)
		}
	})
}

func TestPublisherThatNeverSendsIsGivenUp(t *testing.T) {
	e := newEnv(t)
	e.whip.ConnectWait = 300 * time.Millisecond
	ctx := ctxFor(t, 30*time.Second)
	sdp := opusOffer(t)
	if _, _, err := e.whip.Publish(ctx, "test", "DJ", sdp); err != nil {
		t.Fatal(err)
	}
	e.waitNoSessions(t, ctx, "a publisher that never connected kept its session")
	if e.relay.Status("test").Source != nil {
		t.Fatal("a publisher that never sent took the air")
	}
	// The station is free for the next one.
	if _, _, err := e.whip.Publish(ctx, "test", "DJ", sdp); err != nil {
		t.Fatal(err)
	}
}
