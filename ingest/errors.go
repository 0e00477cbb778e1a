package ingest

import "errors"

// Sentinel errors of misuse; what is wrong with an upload is reported as an
// *onair.Error instead.
var (
	// ErrNoMediaDir: the Ingester has no MediaDir.
	ErrNoMediaDir = errors.New("no media directory configured")
	// ErrBadPath: a Track's Path is not a name Ingest makes.
	ErrBadPath = errors.New("not a media file name")
)
