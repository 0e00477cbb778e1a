package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/ingest"
)

// uploadField is the multipart field that carries files.
const uploadField = "file"

type uploadError struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// uploadAnswer is the answer to an upload; Error is set only when nothing
// was added, so that it is also a plain {"error"} answer.
type uploadAnswer struct {
	Error  string        `json:"error,omitempty"`
	Tracks []trackJSON   `json:"tracks"`
	Errors []uploadError `json:"errors"`
}

// uploadTracks: POST /api/stations/{slug}/tracks, multipart with one or
// more "file" parts. Who may upload is settled before a byte of the body is
// read, and each part streams straight into the ingester: no file is ever
// whole in memory, nor in a temporary file of net/http's.
func (s *Server) uploadTracks(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := s.user(r)
	if err != nil {
		return err
	}
	st, err := s.Control.CanUpload(ctx, u, r.PathValue("slug"))
	if err != nil {
		// Refused: close rather than let net/http drain a large body.
		w.Header().Set("Connection", "close")
		return err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		w.Header().Set("Connection", "close")
		return onair.Errorf(onair.EInvalid, `send the files as multipart/form-data, each in a part named %q`, uploadField)
	}
	out := uploadAnswer{Tracks: []trackJSON{}, Errors: []uploadError{}}
	var first error
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Header().Set("Connection", "close")
			err = onair.Errorf(onair.EInvalid, "malformed multipart body: %v", err)
			out.Errors = append(out.Errors, uploadError{Error: onair.ErrorMessage(err)})
			if first == nil {
				first = err
			}
			break
		}
		if part.FormName() != uploadField {
			continue // NextPart skips what is left of it
		}
		name := ingest.CleanFilename(part.FileName())
		t, err := s.Control.AddTrack(ctx, st, part.FileName(), part)
		if err == nil {
			out.Tracks = append(out.Tracks, newTrackJSON(st.Slug, t))
			continue
		}
		if onair.ErrorCode(err) == onair.EInternal {
			s.logInternal(r, err)
		}
		out.Errors = append(out.Errors, uploadError{File: name, Error: onair.ErrorMessage(err)})
		if first == nil {
			first = err
		}
		if !nextPartReadable(err) {
			// The rest of the body is not read: a part too large would
			// otherwise be read to its end, however long it is.
			w.Header().Set("Connection", "close")
			break
		}
	}

	if len(out.Tracks) > 0 {
		if err := s.Control.TracksAdded(ctx, st); err != nil {
			s.logger().Warn("live station not told of new tracks", "station", st.Slug, "err", err)
		}
		writeJSON(w, http.StatusCreated, out)
		return nil
	}
	if first == nil { // no file part at all
		first = onair.Errorf(onair.EInvalid, "no %q part in the upload", uploadField)
	}
	out.Error = onair.ErrorMessage(first)
	writeJSON(w, statusOf(onair.ErrorCode(first)), out)
	return nil
}

// nextPartReadable reports whether, after a part failed with err, the
// upload may go on with the next part: only when the file was read whole
// and found unusable. Anything else (too large, an interrupted body, a
// failing disk) ends the upload there.
func nextPartReadable(err error) bool {
	switch onair.ErrorCode(err) {
	case onair.EUnsupported, onair.EUnprocessable:
		return true
	default:
		return false
	}
}
