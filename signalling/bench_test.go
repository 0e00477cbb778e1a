package signalling

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/onairfm/onair"
)

// The broadcast benchmarks hold N real client sockets on loopback and time
// one stream:metadata event from Publish until every client has read it.
// The clients live in a child process (this test binary, re-run with
// benchClientsEnv set): 10,000 sockets on each side would not fit one
// process's descriptor limit, and the limit is not raised. The event
// carries its publish time (wall clock, shared by both processes) in its
// title; the child reports per-client latency quantiles.

const (
	benchClientsEnv = "ONAIR_SIGNALLING_BENCH_CLIENTS"
	benchURLEnv     = "ONAIR_SIGNALLING_BENCH_URL"
)

func BenchmarkBroadcast1k(b *testing.B)  { benchmarkBroadcast(b, 1_000) }
func BenchmarkBroadcast10k(b *testing.B) { benchmarkBroadcast(b, 10_000) }

func benchmarkBroadcast(b *testing.B, n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		b.Logf("open file limit %d per process (server side holds %d sockets, client process %d)", lim.Cur, n, n)
		if lim.Cur < uint64(n)+100 {
			b.Skipf("open file limit %d is too low for %d sockets in one process; not raising it", lim.Cur, n)
		}
	}
	env := newEnv(b, nil)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", benchClientsEnv, n), benchURLEnv+"="+env.url)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := make(chan string)
	readerDone := make(chan struct{})
	defer func() {
		cancel() // ends the child on every path; it is done on success
		_ = cmd.Wait()
		<-readerDone
	}()
	go func() {
		defer close(readerDone)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	readLine := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				b.Fatal("client process ended")
			}
			return l
		case <-time.After(time.Minute):
			b.Fatal("client process silent for a minute")
		}
		return ""
	}
	if l := readLine(); l != "ready" {
		b.Fatalf("client process: %q", l)
	}
	if c := env.hub.Connections(); c != n {
		b.Fatalf("%d connections, want %d", c, n)
	}

	b.ReportAllocs()
	var track int64
	serverCPU := cpuTime()
	for b.Loop() {
		track++
		env.hub.Publish(onair.Event{Kind: onair.EventMetadata, Station: "live", NowPlaying: &onair.NowPlaying{
			TrackID: track, Title: strconv.FormatInt(time.Now().UnixNano(), 10), Artist: "Bench", Album: "Loopback",
			Duration: 3 * time.Minute, StartedAt: time.Now(),
		}})
		if l := readLine(); l != "done "+strconv.FormatInt(track, 10) {
			b.Fatalf("client process: %q", l)
		}
	}
	serverCPU = cpuTime() - serverCPU
	_ = stdin.Close()
	var p50, p99, pmax, clientCPU float64
	if _, err := fmt.Sscanf(readLine(), "latency %g %g %g cpu %g", &p50, &p99, &pmax, &clientCPU); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(pmax, "max-ms")
	// Both processes share the machine's CPUs: this says how much of it
	// the server's side of each broadcast took.
	b.ReportMetric(float64(serverCPU)/float64(time.Millisecond)/float64(track), "server-cpu-ms/op")
	b.ReportMetric(clientCPU/float64(track), "client-cpu-ms/op")
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runBenchClients is the child process: it connects the clients, joins
// them to "live", says "ready", then says "done N" once every client has
// read track N, and finally, when stdin closes, prints the latency
// quantiles in milliseconds.
func runBenchClients() int {
	n, err := strconv.Atoi(os.Getenv(benchClientsEnv))
	url := os.Getenv(benchURLEnv)
	if err != nil || !strings.HasPrefix(url, "ws://127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "bench clients: bad environment")
		return 2
	}
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var dialErr error
	var errOnce sync.Once
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ws, err := benchJoin(url)
			if err != nil {
				errOnce.Do(func() { dialErr = err })
				return
			}
			conns[i] = ws
		})
	}
	wg.Wait()
	if dialErr != nil {
		fmt.Fprintln(os.Stderr, "bench clients:", dialErr)
		return 1
	}
	// Each client keeps its own samples; a shared counter tells when
	// every client has read the current track (tracks come one at a time).
	samples := make([][]time.Duration, n)
	var arrived atomic.Int64
	var out sync.Mutex
	over := make(chan struct{})
	for i, ws := range conns {
		go func() {
			for {
				_, b, err := ws.ReadMessage()
				if err != nil {
					select {
					case <-over:
					default: // the benchmark would wait for this client forever
						out.Lock()
						fmt.Println("lost a client:", err)
						out.Unlock()
					}
					return
				}
				at := time.Now().UnixNano()
				track, sent, ok := benchParse(b)
				if !ok {
					continue
				}
				samples[i] = append(samples[i], time.Duration(at-sent))
				if arrived.Add(1) == track*int64(n) {
					out.Lock()
					fmt.Println("done", track)
					out.Unlock()
				}
			}
		}()
	}
	fmt.Println("ready")
	startCPU := cpuTime()
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark is over
	cpu := float64(cpuTime()-startCPU) / float64(time.Millisecond)
	close(over)
	for _, ws := range conns {
		_ = ws.Close()
	}
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	slices.Sort(all)
	q := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	out.Lock()
	fmt.Printf("latency %.3f %.3f %.3f cpu %.3f\n", q(0.50), q(0.99), q(1), cpu)
	out.Unlock()
	return 0
}

func benchJoin(url string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"stream:join","data":{"station":"live"}}`)); err != nil {
		return nil, err
	}
	for { // the welcome ends with the like count
		_, b, err := ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, []byte(`"event":"interaction:count"`)) {
			return ws, nil
		}
	}
}

// benchParse pulls the track id and the publish time out of a metadata
// message without a full JSON decode, to keep the clients' CPU for the
// server.
func benchParse(b []byte) (track, sent int64, ok bool) {
	num := func(key string) (int64, bool) {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return 0, false
		}
		rest := b[i+len(key):]
		j := bytes.IndexAny(rest, `",}`)
		if j < 0 {
			return 0, false
		}
		v, err := strconv.ParseInt(string(rest[:j]), 10, 64)
		return v, err == nil
	}
	track, ok1 := num(`"track_id":`)
	sent, ok2 := num(`"title":"`)
	return track, sent, ok1 && ok2
}
