package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/relay/icy"
)

// timedListener reads a station's MP3 stream and notes when each byte
// arrived, so a sound found in the decoded audio has an arrival time.
type timedListener struct {
	mu    sync.Mutex
	audio []byte
	marks []mark // one per read: the audio length after it, and when
	done  chan struct{}
}

type mark struct {
	n  int
	at time.Time
}

func listenTimed(t *testing.T, ctx context.Context, url string) *timedListener {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Icy-MetaData", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("listen: %v", err)
	}
	l := &timedListener{done: make(chan struct{})}
	rd := icy.NewReader(bufio.NewReader(resp.Body), 16000, func(icy.Meta) {})
	go func() {
		defer close(l.done)
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		for {
			n, err := rd.Read(buf)
			now := time.Now()
			l.mu.Lock()
			l.audio = append(l.audio, buf[:n]...)
			l.marks = append(l.marks, mark{len(l.audio), now})
			l.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { resp.Body.Close(); <-l.done })
	return l
}

func (l *timedListener) bytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.audio)
}

// waitBytes waits until n more bytes than now have arrived.
func (l *timedListener) waitBytes(t *testing.T, n int) {
	t.Helper()
	want := l.bytes() + n
	deadline := time.Now().Add(60 * time.Second)
	for l.bytes() < want {
		if time.Now().After(deadline) {
			t.Fatal("the listener stopped receiving")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// arrival is when the byte at offset off arrived.
func (l *timedListener) arrival(off int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearchFunc(l.marks, off, func(m mark, off int) int { return m.n - 1 - off })
	if i >= len(l.marks) {
		i = len(l.marks) - 1
	}
	return l.marks[i].at
}

// pcm decodes what arrived; sample s is at byte s*16000/rate (CBR 128k).
func (l *timedListener) pcm(t *testing.T) ([]float64, int) {
	l.mu.Lock()
	data := append([]byte(nil), l.audio...)
	l.mu.Unlock()
	s, rate, err := audiotest.DecodeMP3(data)
	if err != nil {
		t.Fatal(err)
	}
	return s, rate
}

func (l *timedListener) sampleArrival(s, rate int) time.Time {
	return l.arrival(int(int64(s) * 16000 / int64(rate)))
}

// pacedSource is sourceClient that notes when it wrote each frame.
type pacedSource struct {
	*sourceClient
	mu     sync.Mutex
	writes []time.Time
}

func startPacedSource(t *testing.T, addr, mount string, file []byte, loop bool) *pacedSource {
	t.Helper()
	p := &pacedSource{}
	// A real client sends what it captured or encoded, about in real time.
	p.sourceClient = startSourceClientWith(t, addr, mount, "deejay", "password1", file, loop, 30*time.Millisecond, func(i int, at time.Time) {
		p.mu.Lock()
		p.writes = append(p.writes, at)
		p.mu.Unlock()
	})
	return p
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func summary(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	r := func(x time.Duration) string { return x.Round(time.Millisecond).String() }
	return fmt.Sprintf("n=%d min %s p50 %s p95 %s max %s", len(d), r(percentile(d, 0)), r(percentile(d, 0.5)), r(percentile(d, 0.95)), r(percentile(d, 1)))
}

// goertzel is the power of freq in x.
func goertzel(x []float64, rate, freq float64) float64 {
	w := 2 * math.Pi * freq / rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIcecastLiveFigures measures, for docs/PERFORMANCE.md: the delay
// from an Icecast source to an HTTP listener, the takeover and fallback
// times heard by that listener over N switches, and the CPU of a live
// station with listeners on every output, with and without a source.
//
//	ONAIR_MEASURE=20 go test -run TestIcecastLiveFigures -v ./cmd/onair/
func TestIcecastLiveFigures(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ONAIR_MEASURE"))
	if n <= 0 {
		t.Skip("set ONAIR_MEASURE=N (switches) to measure")
	}
	ff := testutil.NeedTool(t, "ffmpeg")
	s := startServer(t, "")
	tok := s.owner("alice")
	slug, _ := s.liveStation(tok, "Figures FM", "tone440.mp3")
	s.must(201, "POST", "/api/stations/"+slug+"/streamers", tok, map[string]string{"username": "deejay", "password": "password1"}, nil)
	u, _ := url.Parse(s.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*20*time.Second+5*time.Minute)
	defer cancel()
	l := listenTimed(t, ctx, s.URL+"/stream/"+slug)
	l.waitBytes(t, 32000)

	// 1. Delay: silence with a 100 ms 1 kHz burst every 1.1 s, MP3: the
	// bursts fall at every phase of the HTTP chunks (500 ms).
	bursts := 30
	out, err := exec.Command(ff, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("aevalsrc='if(lt(mod(t,1.1),0.1),0.3*sin(2*PI*1000*t),0)':s=44100:d=%d", bursts),
		"-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := audiotest.DecodeMP3(out)
	if err != nil {
		t.Fatal(err)
	}
	srcOnsets := onsets(src)
	ps := startPacedSource(t, u.Host, "/stream/"+slug, out, false)
	<-ps.done
	l.waitBytes(t, 3*16000)
	ps.close()
	l.waitBytes(t, 3*16000)
	pcm, rate := l.pcm(t)
	var delays []time.Duration
	ps.mu.Lock()
	writes := slices.Clone(ps.writes)
	ps.mu.Unlock()
	for _, so := range srcOnsets[1:] { // the first burst is in the takeover's fade
		fr := so / 1152
		if fr >= len(writes) {
			break
		}
		sent := writes[fr]
		for _, lo := range onsets(pcm) {
			at := l.sampleArrival(lo, rate)
			if d := at.Sub(sent); d >= 0 && d < 3*time.Second {
				delays = append(delays, d)
				break
			}
		}
	}
	t.Logf("Icecast source → HTTP listener delay: %s", summary(delays))
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("load average: %s", load)

	// 2. Takeover and fallback, n switches, as the listener hears them.
	tone := fixture(t, "tone1000-vbr.mp3").data
	type sw struct{ on, accepted, off time.Time }
	var sws []sw
	for range n {
		var w sw
		w.on = time.Now()
		p := startPacedSource(t, u.Host, "/stream/"+slug, tone, true)
		w.accepted = time.Now()
		l.waitBytes(t, 3*16000)
		w.off = time.Now()
		p.close()
		l.waitBytes(t, 3*16000)
		sws = append(sws, w)
	}
	pcm, rate = l.pcm(t)
	win := rate / 20 // 50 ms windows
	// first is when the first window after from, where the source does
	// (or does not) dominate, arrived.
	first := func(from time.Time, live bool) (time.Time, bool) {
		for i := 0; i+win <= len(pcm); i += win {
			at := l.sampleArrival(i+win, rate)
			x := pcm[i : i+win]
			if at.After(from) && (goertzel(x, float64(rate), 1000) > goertzel(x, float64(rate), 440)) == live {
				return at, true
			}
		}
		return time.Time{}, false
	}
	var takeover, afterOK, fallback []time.Duration
	for _, w := range sws {
		if at, ok := first(w.on, true); ok {
			takeover = append(takeover, at.Sub(w.on))
			afterOK = append(afterOK, at.Sub(w.accepted))
		}
		if at, ok := first(w.off, false); ok {
			fallback = append(fallback, at.Sub(w.off))
		}
	}
	t.Logf("takeover (connect → the source dominates at the listener): %s", summary(takeover))
	t.Logf("takeover (200 OK → the source dominates at the listener): %s", summary(afterOK))
	t.Logf("fallback (disconnect → the playlist dominates at the listener): %s", summary(fallback))

	// 3. CPU: HTTP MP3, Ogg/Opus and WebRTC listeners, playlist then source.
	opus, err := http.Get(s.URL + "/stream/" + slug + ".opus")
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, opus.Body)
	defer opus.Body.Close()
	sock := s.dial(t, "")
	sock.Send("stream:join", map[string]string{"station": slug})
	listenRTC(t, sock, slug, false)
	measure := func(what string) {
		l.waitBytes(t, 2*16000)
		c0, t0 := cpuTime(), time.Now()
		l.waitBytes(t, 20*16000)
		c1, t1 := cpuTime(), time.Now()
		t.Logf("CPU, %s: %.1f%% of one core over %s (the whole test process: server and its three listeners)",
			what, 100*float64(c1-c0)/float64(t1.Sub(t0)), t1.Sub(t0).Round(time.Second))
	}
	measure("playlist")
	p := startPacedSource(t, u.Host, "/stream/"+slug, tone, true)
	measure("Icecast MP3 source on air")
	p.close()
}

// onsets finds where bursts start: a sample above 0.1 after at least
// 0.5 s below it.
func onsets(x []float64) []int {
	var out []int
	quiet := 0
	for i, v := range x {
		if math.Abs(v) > 0.1 {
			if quiet >= 22050 {
				out = append(out, i)
			}
			quiet = 0
			continue
		}
		quiet++
	}
	return out
}
