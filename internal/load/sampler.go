package load

import (
	"context"
	"sync"
	"time"
)

// sampler reads a server process from /proc every period, and on demand at
// the edges of the run's phases so that each phase is measured exactly.
type sampler struct {
	pid    int
	period time.Duration

	mu      sync.Mutex
	samples []ProcSample
	err     error

	cancel context.CancelFunc
	done   chan struct{}
}

// startSampler starts sampling pid; pid 0 gives a sampler that records
// nothing.
func startSampler(pid int, period time.Duration) *sampler {
	s := &sampler{pid: pid, period: period, done: make(chan struct{})}
	if pid == 0 {
		close(s.done)
		s.cancel = func() {}
		return s
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	return s
}

func (s *sampler) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mark()
		}
	}
}

// mark takes a sample now and returns it; ok is false when nothing could
// be read (no pid, or the process is gone).
func (s *sampler) mark() (ProcSample, bool) {
	if s.pid == 0 {
		return ProcSample{}, false
	}
	p, err := readProc(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return ProcSample{}, false
	}
	s.samples = append(s.samples, p)
	return p, true
}

// stop ends sampling and returns every sample and the first error.
func (s *sampler) stop() ([]ProcSample, error) {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ProcSample(nil), s.samples...), s.err
}
