package load

import "errors"

var (
	// ErrConfig is a run that cannot be done as asked.
	ErrConfig = errors.New("load: bad config")
	// ErrNotLoopback is a server address other than 127.0.0.1.
	ErrNotLoopback = errors.New("load: only 127.0.0.1 may be loaded")
	// ErrFDLimit is a run that needs more open files than the process may
	// have.
	ErrFDLimit = errors.New("load: open file limit too low")
	// ErrStatus is an HTTP answer other than the one expected.
	ErrStatus = errors.New("load: unexpected status")
)

// ErrProcFormat is a /proc file that does not read as expected.
var ErrProcFormat = errors.New("load: unexpected /proc format")
