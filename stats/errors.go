package stats

import "errors"

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("stats: recorder closed")
