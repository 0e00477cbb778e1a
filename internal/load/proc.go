package load

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of utime and stime in /proc/PID/stat (USER_HZ).
// It is 100 on every Linux architecture Go supports; reading it would need
// sysconf, so cgo.
const clockTicks = 100

// ProcSample is one reading of a process from /proc.
type ProcSample struct {
	At      time.Time `json:"at"`
	CPU     float64   `json:"cpu_seconds"` // user + system, since the process started
	RSSKB   int64     `json:"rss_kb"`
	Threads int       `json:"threads"`
}

// readProc reads pid's CPU time, resident memory and thread count.
func readProc(pid int) (ProcSample, error) {
	at := time.Now()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("load: read /proc/%d/stat: %w", pid, err)
	}
	cpu, threads, err := parseStat(stat)
	if err != nil {
		return ProcSample{}, fmt.Errorf("load: /proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("load: read /proc/%d/status: %w", pid, err)
	}
	rss, err := parseRSS(status)
	if err != nil {
		return ProcSample{}, fmt.Errorf("load: /proc/%d/status: %w", pid, err)
	}
	return ProcSample{At: at, CPU: cpu, RSSKB: rss, Threads: threads}, nil
}

// parseStat returns utime+stime in seconds and num_threads from the text
// of /proc/PID/stat. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (cpu float64, threads int, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: no command name", ErrProcFormat)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 18 {
		return 0, 0, fmt.Errorf("%w: %d fields", ErrProcFormat, len(f)+2)
	}
	utime, err1 := strconv.ParseUint(f[14-3], 10, 64)
	stime, err2 := strconv.ParseUint(f[15-3], 10, 64)
	n, err3 := strconv.Atoi(f[20-3])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("%w: utime %q stime %q threads %q", ErrProcFormat, f[14-3], f[15-3], f[20-3])
	}
	return float64(utime+stime) / clockTicks, n, nil
}

// parseRSS returns VmRSS in kB from the text of /proc/PID/status.
func parseRSS(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: VmRSS %q", ErrProcFormat, rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: VmRSS %q", ErrProcFormat, rest)
		}
		return kb, nil
	}
	return 0, fmt.Errorf("%w: no VmRSS", ErrProcFormat)
}

// cpuPercent is the CPU a process used between two samples, in percent of
// one core.
func cpuPercent(a, b ProcSample) float64 {
	wall := b.At.Sub(a.At).Seconds()
	if wall <= 0 {
		return 0
	}
	return (b.CPU - a.CPU) / wall * 100
}
