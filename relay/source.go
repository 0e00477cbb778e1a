package relay

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/ingest/mp3"
)

// source reads the frames of the track a station plays. One source lives as
// long as its station and its scanner is reused from track to track, so
// moving to the next track costs a file open and nothing more.
type source struct {
	dir   string
	file  *os.File
	scan  *mp3.Scanner
	track onair.Track
}

// open starts reading t, closing the previous track.
func (s *source) open(t onair.Track) error {
	s.close()
	f, err := os.Open(filepath.Join(s.dir, filepath.Base(t.Path)))
	if err != nil {
		return fmt.Errorf("relay: open track %d: %w", t.ID, err)
	}
	if s.scan == nil {
		s.scan = mp3.NewScanner(f)
	} else {
		s.scan.Reset(f)
	}
	s.file, s.track = f, t
	return nil
}

// next returns the track's next audio frame; io.EOF at its end. The frame's
// bytes are valid until the next call.
func (s *source) next() (mp3.Frame, error) {
	if s.file == nil {
		return mp3.Frame{}, errNoTrack
	}
	return s.scan.Next()
}

func (s *source) close() {
	if s.file != nil {
		_ = s.file.Close() // read-only: nothing to lose
		s.file = nil
	}
}
