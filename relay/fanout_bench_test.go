package relay

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/relay/icy"
)

// BenchmarkHTTPFanout measures what an HTTP listener costs the server: a
// real station plays 128 kbit/s MP3 on its real clock and N listeners read
// it over loopback TCP through ServeStream, with ICY metadata. The
// listeners live in a child process (this test binary, re-run with
// fanoutClientsEnv set), so the CPU this process uses, read with
// getrusage, is the server's alone: station clock, ring, per-listener
// goroutine wake-ups, ICY framing and writev.
//
// One op is one second of audio (two chunks at the default 500 ms)
// published to every listener on the station's real clock, so ns/op is
// wall time and says nothing; a second is enough for the CPU of 100
// listeners to stand out of the station's own.
// The figures are:
//
//	cpu-ns/listener-s  server CPU per listener per second of audio, after
//	                   subtracting the station's own cost measured with no
//	                   listener (the "52 µs/listener-s" of the targets is
//	                   52000 here)
//	heap-B/listener    Go heap and stacks per listener (kernel socket
//	                   buffers not included)
//	delivered-%        audio the listeners read of what the station
//	                   published in the window, as a check
//
// Most of the cost is the writev system call, once per chunk per listener
// (on loopback the kernel also delivers to the reader inside it), so the
// chunk duration is the main lever: the chunk=1s case shows it.
func BenchmarkHTTPFanout(b *testing.B) {
	for _, c := range []struct {
		n     int
		chunk time.Duration
	}{{100, 0}, {1000, 250 * time.Millisecond}, {1000, 0}, {1000, time.Second}} {
		name := fmt.Sprintf("listeners=%d", c.n)
		if c.chunk != 0 {
			name += "/chunk=" + c.chunk.String()
		}
		b.Run(name, func(b *testing.B) { benchFanout(b, c.n, c.chunk) })
	}
}

const (
	fanoutClientsEnv = "ONAIR_RELAY_BENCH_FANOUT_CLIENTS"
	fanoutURLEnv     = "ONAIR_RELAY_BENCH_FANOUT_URL"
)

// The child process: connect the listeners, then serve the parent.
func init() {
	if os.Getenv(fanoutClientsEnv) != "" {
		os.Exit(fanoutClients())
	}
}

func benchFanout(b *testing.B, n int, chunk time.Duration) {
	if err := raiseFDLimit(uint64(n) + 200); err != nil {
		b.Skip(err)
	}
	dir := benchMedia(b, "tone440.mp3", "tone880.mp3")
	r := &Relay{MediaDir: dir.dir, ChunkDuration: chunk}
	chunksPerOp := max(1, int(time.Second/r.chunkDuration()))
	if err := r.Start(StationInfo{Slug: "bench", Name: "Bench FM"}, dir.tracks, PlayOptions{Loop: true}); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stream/", r.ServeStream)
	srv := httptest.NewServer(mux)
	defer func() {
		srv.Close()
		r.Close()
	}()
	s := r.get("bench")
	// The MP3 encoder runs only for listeners: count one that is not
	// there, so the station alone (encoding) can be measured first.
	tune(s, mountMP3)
	s.nudge()

	// The station alone, to subtract: one second of it, with the garbage
	// of earlier runs collected first.
	runtime.GC()
	waitChunks(b, s.mounts[mountMP3].ring, 1)
	cpu0, wall0 := benchCPU(), time.Now()
	waitChunks(b, s.mounts[mountMP3].ring, chunksPerOp)
	idle := float64(benchCPU()-cpu0) / float64(time.Since(wall0))

	heap0 := heapInUse()
	child := startFanoutClients(b, srv.URL+"/stream/bench", n)
	defer child.stop()
	if got := s.httpCount.Load(); got != int64(n) {
		b.Fatalf("%d listeners connected, want %d", got, n)
	}
	// Let the start-up bursts go out before measuring.
	waitChunks(b, s.mounts[mountMP3].ring, 2)
	heap1 := heapInUse()

	// The window runs from a quiet moment between two chunks (the last one
	// delivered to every listener) to another, so it holds whole chunks.
	b.ReportAllocs()
	waitChunks(b, s.mounts[mountMP3].ring, 1)
	recv0 := child.quiet(b)
	seq0 := s.mounts[mountMP3].ring.head()
	cpu0, wall0 = benchCPU(), time.Now()
	for b.Loop() {
		waitChunks(b, s.mounts[mountMP3].ring, chunksPerOp)
	}
	recv1 := child.quiet(b)
	seq := s.mounts[mountMP3].ring.head()
	cpu, wall := benchCPU()-cpu0, time.Since(wall0)
	audio, bytes := s.mounts[mountMP3].ring.span(seq0, seq)
	if got := s.httpCount.Load(); got != int64(n) {
		b.Fatalf("%d listeners left at the end, want %d (dropped: %d)", got, n, r.stats.httpDropped.Load())
	}
	listenerCPU := float64(cpu) - idle*float64(wall)
	b.ReportMetric(listenerCPU/float64(n)/audio.Seconds(), "cpu-ns/listener-s")
	b.ReportMetric(idle*100, "station-cpu-%")
	b.ReportMetric(float64(heap1-heap0)/float64(n), "heap-B/listener")
	b.ReportMetric(100*float64(recv1-recv0)/float64(int64(n)*bytes), "delivered-%")
}

// waitChunks waits until k more chunks are published and returns the seq
// of the next one.
func waitChunks(b *testing.B, rg *ring, k int) uint64 {
	rg.mu.Lock()
	target := rg.next + uint64(k)
	rg.mu.Unlock()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		rg.mu.Lock()
		next, wait := rg.next, rg.notify
		rg.mu.Unlock()
		if next >= target {
			return next
		}
		select {
		case <-wait:
		case <-deadline.C:
			b.Fatal("no chunk published for 10 s")
		}
	}
}

// span is the audio duration and size of the chunks [from, to) still in
// the ring.
func (r *ring) span(from, to uint64) (time.Duration, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var d time.Duration
	var n int64
	for s := max(from, r.oldest()); s < to && s < r.next; s++ {
		c := r.chunks[s%uint64(len(r.chunks))]
		d += c.dur
		n += int64(len(c.data))
	}
	return d, n
}

// head is the seq the next published chunk gets.
func (r *ring) head() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// benchCPU is the user and system CPU time this process has used.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapInUse is the memory Go holds for live objects and goroutine stacks.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// raiseFDLimit makes room for need descriptors, raising the soft limit
// up to the hard one if it must.
func raiseFDLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= need {
		return nil
	}
	if lim.Max < need {
		return fmt.Errorf("open file limit %d, %d needed", lim.Max, need)
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

type benchDir struct {
	dir    string
	tracks []onair.Track
}

// benchMedia copies fixtures into a temp media directory as tracks 1, 2...
func benchMedia(tb testing.TB, names ...string) benchDir {
	tb.Helper()
	d := benchDir{dir: tb.TempDir()}
	for i, name := range names {
		if err := os.WriteFile(filepath.Join(d.dir, name), audiotest.Fixture(tb, name), 0o600); err != nil {
			tb.Fatal(err)
		}
		tr := fixtureTracks[name]
		tr.ID, tr.Path, tr.Filename = int64(i+1), name, name
		d.tracks = append(d.tracks, tr)
	}
	return d
}

// fanoutChild is the listener process as the benchmark drives it.
type fanoutChild struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stdin  io.WriteCloser
	lines  chan string
	done   chan struct{}
}

func startFanoutClients(b *testing.B, url string, n int) *fanoutChild {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", fanoutClientsEnv, n), fanoutURLEnv+"="+url)
	cmd.Stderr = os.Stderr
	stdin, err1 := cmd.StdinPipe()
	stdout, err2 := cmd.StdoutPipe()
	if err1 != nil || err2 != nil {
		cancel()
		b.Fatal(err1, err2)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	c := &fanoutChild{cmd: cmd, cancel: cancel, stdin: stdin, lines: make(chan string), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	if l := c.line(b); l != "ready" {
		c.stop()
		b.Fatalf("listener process: %q", l)
	}
	return c
}

func (c *fanoutChild) line(b *testing.B) string {
	select {
	case l, ok := <-c.lines:
		if !ok {
			b.Fatal("listener process ended")
		}
		return l
	case <-time.After(time.Minute):
		b.Fatal("listener process silent for a minute")
	}
	return ""
}

// total asks the child for the audio bytes its listeners received so far.
func (c *fanoutChild) total(b *testing.B) int64 {
	if _, err := io.WriteString(c.stdin, "total\n"); err != nil {
		b.Fatal(err)
	}
	l := c.line(b)
	v, err := strconv.ParseInt(strings.TrimPrefix(l, "total "), 10, 64)
	if err != nil {
		b.Fatalf("listener process: %q", l)
	}
	return v
}

// quiet waits until the listeners have read everything sent so far (the
// total stops moving for 50 ms, well within the gap between two chunks)
// and returns the total.
func (c *fanoutChild) quiet(b *testing.B) int64 {
	deadline := time.Now().Add(5 * time.Second)
	prev := c.total(b)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		t := c.total(b)
		if t == prev {
			return t
		}
		prev = t
	}
	b.Fatal("listeners still reading after 5 s")
	return 0
}

func (c *fanoutChild) stop() {
	_ = c.stdin.Close()
	c.cancel()
	_ = c.cmd.Wait()
	<-c.done
}

// fanoutClients is the child process: n ICY listeners of the URL. It says
// "ready" once every listener has audio, answers "total" with the audio
// bytes received, and exits when stdin closes or a listener fails.
func fanoutClients() int {
	n, err := strconv.Atoi(os.Getenv(fanoutClientsEnv))
	url := os.Getenv(fanoutURLEnv)
	addr, path, ok := strings.Cut(strings.TrimPrefix(url, "http://"), "/")
	if err != nil || !strings.HasPrefix(url, "http://127.0.0.1:") || !ok {
		fmt.Fprintln(os.Stderr, "fanout clients: bad environment")
		return 2
	}
	var total atomic.Int64
	var ready, wg sync.WaitGroup
	failed := make(chan error, n)
	sem := make(chan struct{}, 64)
	conns := make([]net.Conn, n)
	for i := range n {
		ready.Add(1)
		wg.Go(func() {
			sem <- struct{}{}
			c, rd, err := dialICY(addr, "/"+path)
			<-sem
			if err != nil {
				ready.Done()
				failed <- err
				return
			}
			conns[i] = c
			buf := make([]byte, 16<<10)
			first := true
			for {
				k, err := rd.Read(buf)
				total.Add(int64(k))
				if first && k > 0 {
					first = false
					ready.Done()
				}
				if err != nil {
					if first {
						ready.Done()
					}
					failed <- err
					return
				}
			}
		})
	}
	ready.Wait()
	select {
	case err := <-failed:
		fmt.Fprintln(os.Stderr, "fanout clients:", err)
		return 1
	default:
	}
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "total" {
			fmt.Println("total", total.Load())
		}
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return 0
}

// dialICY opens a stream as a media player does.
func dialICY(addr, path string) (net.Conn, *icy.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: %s\r\nIcy-MetaData: 1\r\n\r\n", path, addr)
	br := bufio.NewReader(c)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("read status: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.0 200") {
		c.Close()
		return nil, nil, fmt.Errorf("status %q", status)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	metaint, _ := strconv.Atoi(h.Get("Icy-Metaint"))
	return c, icy.NewReader(br, metaint, nil), nil
}
