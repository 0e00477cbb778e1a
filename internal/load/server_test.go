package load

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/audiotest"
)

// onairServer is the real onair binary, built from this tree and run as a
// child process on 127.0.0.1 with its own data directory, as the scripts
// run it.
type onairServer struct {
	URL string
	PID int
	cmd *exec.Cmd
}

const testPassword = "load-test-password"

func startOnair(t *testing.T) *onairServer {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "onair")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/onairfm/onair/cmd/onair")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build onair: %v\n%s", err, out)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("ONAIR_HTTP_ADDR=127.0.0.1:%d", port),
		"ONAIR_DATA_DIR="+filepath.Join(dir, "data"),
		"ONAIR_ADMIN_PASSWORD="+testPassword,
		"ONAIR_WEBRTC_LOOPBACK_ONLY=true",
		"ONAIR_LOG_LEVEL=warn",
	)
	logf, err := os.Create(filepath.Join(dir, "onair.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &onairServer{URL: fmt.Sprintf("http://127.0.0.1:%d", port), PID: cmd.Process.Pid, cmd: cmd}
	t.Cleanup(func() {
		s.stop(t)
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("server log:\n%s", b)
			}
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy within 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the child it started, by its pid: politely, then for sure.
func (s *onairServer) stop(t *testing.T) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Error("server did not stop within 15 s of SIGTERM; killing it")
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// TestRunAgainstOnair runs a small mixed load against the real server and
// checks that every figure is plausible: 128 kbit/s tones arrive at about
// 16000 bytes/s with ICY blocks, WebRTC packets arrive one per 60 ms (the
// tool reads that off their timestamps) and
// decode to sound, metadata events reach every WebSocket client, and the
// server's /proc was read.
func TestRunAgainstOnair(t *testing.T) {
	srv := startOnair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	td := audiotest.Testdata()
	st, err := Prepare(ctx, srv.URL, "admin", testPassword, "Load Test",
		[]string{filepath.Join(td, "tone440.mp3"), filepath.Join(td, "tone880.mp3")})
	if err != nil {
		t.Fatal(err)
	}
	if st.Slug != "load-test" || st.Token == "" {
		t.Fatalf("prepared %+v", st)
	}
	rep, err := Run(ctx, Config{
		Server: srv.URL, Station: st.Slug, Label: "onair",
		HTTP: 5, WebRTC: 2, WS: 3, DecodeSample: 1,
		Mode: ModeRamp, Ramp: 500 * time.Millisecond, Baseline: 500 * time.Millisecond,
		Settle: time.Second, Duration: 4 * time.Second,
		PID: srv.PID, Token: st.Token, Events: 3, Detail: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.Table())

	h := rep.HTTP
	if h == nil || h.Connected != 5 || h.Dropped != 0 || h.SuccessRate != 1 {
		t.Fatalf("http: %+v", h)
	}
	if h.ExpectedBps != 16000 {
		t.Errorf("expected rate %v from icy-br, want 16000", h.ExpectedBps)
	}
	// 250 ms chunks over a 4 s window: within one chunk either way.
	if h.RateBps.Min < 0.85*16000 || h.RateBps.Max > 1.15*16000 {
		t.Errorf("rates %+v, want about 16000 B/s", h.RateBps)
	}
	if h.ICYBlocks < 5 || h.TTFBMS.Min <= 0 || h.ConnectMS.Min <= 0 || h.TTFBMS.Min < h.ConnectMS.Min {
		t.Errorf("http timings or blocks: %+v", h)
	}

	w := rep.WebRTC
	if w == nil || w.Connected != 2 || w.Dropped != 0 {
		t.Fatalf("webrtc: %+v", w)
	}
	if w.FirstPacketMS.Min <= 0 || w.ConnectMS.Min < w.FirstPacketMS.Min {
		t.Errorf("webrtc timings: connect %+v first packet %+v", w.ConnectMS, w.FirstPacketMS)
	}
	// 4 s steady of 60 ms packets: 66 each, whatever the timer's spread.
	if w.Expected < 2*60 || w.Expected > 2*70 || w.Packets < w.Expected*9/10 || w.Packets > w.Expected*11/10 {
		t.Errorf("webrtc packets %d of %d expected", w.Packets, w.Expected)
	}
	if w.Decoding != 1 || w.DecodedRMS < 0.05 || w.DecodedSec < 3 {
		t.Errorf("decoded: %d listeners, rms %v, %v s", w.Decoding, w.DecodedRMS, w.DecodedSec)
	}
	if len(w.Listeners) != 2 || w.Listeners[1].DecodedRMS != 0 {
		t.Errorf("only the first listener should decode: %+v", w.Listeners)
	}

	ws := rep.WS
	if ws == nil || ws.Joined != 3 || ws.Events != 3 || ws.Missed != 0 || ws.EventMS.N != 9 || ws.EventMS.Min <= 0 {
		t.Fatalf("ws: %+v", ws)
	}

	p := rep.Proc
	if p == nil || p.Error != "" || p.PID != srv.PID {
		t.Fatalf("proc: %+v", p)
	}
	if p.SteadyCPU <= 0 || p.SteadyRSSKB < 1000 || p.PeakRSSKB < p.SteadyRSSKB || p.Listeners != 7 || len(p.Samples) < 3 {
		t.Errorf("proc figures: %+v", p)
	}
	if !strings.Contains(rep.Table(), "per listener (7)") {
		t.Errorf("table:\n%s", rep.Table())
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
}

// TestFlashCrowdAgainstOnair brings 60 HTTP listeners in at once: all of
// them must get in.
func TestFlashCrowdAgainstOnair(t *testing.T) {
	srv := startOnair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Prepare(ctx, srv.URL, "admin", testPassword, "Flash", []string{filepath.Join(audiotest.Testdata(), "tone440.mp3")})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, Config{Server: srv.URL, Station: st.Slug, HTTP: 60, Mode: ModeFlash,
		Baseline: 200 * time.Millisecond, Settle: 500 * time.Millisecond, Duration: 2 * time.Second, PID: srv.PID})
	if err != nil {
		t.Fatal(err)
	}
	if h := rep.HTTP; h.Connected != 60 || h.Failed != 0 || h.TTFBMS.N != 60 {
		t.Fatalf("flash crowd: %+v", h)
	}
	if rep.Proc == nil || rep.Proc.Listeners != 60 {
		t.Fatalf("proc: %+v", rep.Proc)
	}
	if err := srv.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("server gone after the run: %v", err)
	}
}
