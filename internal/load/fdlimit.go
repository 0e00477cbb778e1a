package load

import (
	"fmt"
	"syscall"
)

// RaiseFDLimit raises the soft open-file limit to the hard one: a thousand
// listeners need a thousand sockets, and the usual soft limit is 1024. It
// returns the limit now in force.
func RaiseFDLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("load: get open file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("load: raise open file limit to %d: %w", lim.Max, err)
		}
	}
	return lim.Cur, nil
}

// fdsNeeded estimates the descriptors a run holds: one socket per HTTP or
// WebSocket client; a socket, a UDP socket and some slack per WebRTC
// listener; plus the process's own.
func fdsNeeded(c Config) uint64 {
	return uint64(c.HTTP+c.WS+3*c.WebRTC) + 64
}

func checkFDs(c Config) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("load: get open file limit: %w", err)
	}
	if need := fdsNeeded(c); lim.Cur < need {
		return fmt.Errorf("%w: %d open files allowed, about %d needed (raise the hard limit, ulimit -Hn)", ErrFDLimit, lim.Cur, need)
	}
	return nil
}
