package load

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// Fields 3.. of a real line; utime 1500, stime 250 ticks, 7 threads.
	tail := " S 1 2 3 4 5 6 7 8 9 10 1500 250 0 0 20 0 7 0 100 2000000 500 18446744073709551615"
	tests := []struct {
		name    string
		line    string
		cpu     float64
		threads int
		err     bool
	}{
		{"plain", "42 (onair)" + tail, 17.5, 7, false},
		{"spaces and parens in name", "42 (a b) c))" + tail, 17.5, 7, false},
		{"no name", "42 onair" + tail, 0, 0, true},
		{"short", "42 (onair) S 1 2", 0, 0, true},
		{"not a number", "42 (onair) S 1 2 3 4 5 6 7 8 9 10 x 250 0 0 20 0 7 0 100", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpu, threads, err := parseStat([]byte(tt.line))
			if tt.err {
				if !errors.Is(err, ErrProcFormat) {
					t.Fatalf("err %v, want ErrProcFormat", err)
				}
				return
			}
			if err != nil || cpu != tt.cpu || threads != tt.threads {
				t.Fatalf("got %v %d %v, want %v %d", cpu, threads, err, tt.cpu, tt.threads)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"Name:\tonair\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t7\n", 1234, false},
		{"Name:\tonair\n", 0, true},
		{"VmRSS:\t12 MB\n", 0, true},
		{"VmRSS:\tlots kB\n", 0, true},
	}
	for _, tt := range tests {
		got, err := parseRSS([]byte(tt.in))
		if tt.err != (err != nil) || got != tt.want {
			t.Errorf("parseRSS(%q) = %d, %v", tt.in, got, err)
		}
	}
}

// TestReadProcSelf reads this test process: its CPU time only grows and
// its RSS is that of a running Go program.
func TestReadProcSelf(t *testing.T) {
	a, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := range 20_000_000 {
		x += i % 7
	}
	_ = x
	b, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if a.RSSKB < 1000 || a.Threads < 1 || b.CPU < a.CPU || !b.At.After(a.At) {
		t.Fatalf("implausible samples %+v then %+v", a, b)
	}
	if _, err := readProc(1 << 30); err == nil {
		t.Error("reading a process that does not exist did not fail")
	}
}

func TestCPUPercent(t *testing.T) {
	t0 := time.Unix(100, 0)
	a := ProcSample{At: t0, CPU: 10}
	b := ProcSample{At: t0.Add(2 * time.Second), CPU: 11}
	if got := cpuPercent(a, b); got != 50 {
		t.Errorf("1 s of CPU in 2 s: %v%%, want 50", got)
	}
	if got := cpuPercent(b, b); got != 0 {
		t.Errorf("no time: %v", got)
	}
}
