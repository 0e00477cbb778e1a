package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/onairfm/onair"
)

// maxOfferBody bounds a WHIP offer. A browser's audio offer is 3-6 KB.
const maxOfferBody = 64 << 10

// whipIngest is the WHIP side of live sources (package whip).
type whipIngest interface {
	Publish(ctx context.Context, slug, streamer, offer string) (id, answer string, err error)
	End(slug, id string) error
}

var (
	errNoWHIP    = onair.Errorf(onair.ENotFound, "WHIP is not served here")
	errOfferType = onair.Errorf(onair.EUnsupported, "a WHIP offer is sent as Content-Type: application/sdp")
	errOfferSize = onair.Errorf(onair.ETooLarge, "the offer is larger than 64 KiB")
)

// whipStreamer is who asks to go live on station slug: a streamer of the
// station by Basic auth (its display name), or its owner or an admin by
// session (the username).
// A password attempt takes a token of the login rate limit, as a login
// does: Basic auth is a login on every request.
func (s *Server) whipStreamer(w http.ResponseWriter, r *http.Request, slug string) (string, error) {
	if name, pass, ok := r.BasicAuth(); ok {
		if err := s.rateLimit(w, r); err != nil {
			return "", err
		}
		st, err := s.Control.AuthStreamer(r.Context(), slug, name, pass)
		if err != nil {
			if code := onair.ErrorCode(err); code == onair.EUnauthorized || code == onair.EForbidden {
				s.logger().Warn("whip login refused", "station", slug, "streamer", name, "remote", r.RemoteAddr, "err", err)
			}
			return "", err
		}
		return st.Name(), nil
	}
	u, err := s.loggedIn(r)
	if err != nil {
		return "", err
	}
	return s.Control.CanBroadcast(r.Context(), u, slug)
}

// whipPublish: POST /api/stations/{slug}/whip with an SDP offer (RFC 9725)
// → 201, the SDP answer, and the session's Location to DELETE at the end.
func (s *Server) whipPublish(w http.ResponseWriter, r *http.Request) error {
	if s.WHIP == nil {
		return errNoWHIP
	}
	slug := r.PathValue("slug")
	streamer, err := s.whipStreamer(w, r, slug)
	if err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		return errOfferType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errOfferSize
	} else if err != nil {
		return err
	}
	id, answer, err := s.WHIP.Publish(r.Context(), slug, streamer, string(body))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", "/api/stations/"+slug+"/whip/"+id)
	// The server's STUN/TURN URLs, as RFC 9725 (4.6) hands them to clients
	// that have no other way to learn them.
	for _, u := range s.ICEServers {
		h.Add("Link", "<"+u+`>; rel="ice-server"`)
	}
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer) // the status is out: a failed write means the client left
	return nil
}

// whipEnd: DELETE /api/stations/{slug}/whip/{id} ends the session; the
// playlist takes the air back before the answer.
func (s *Server) whipEnd(w http.ResponseWriter, r *http.Request) error {
	if s.WHIP == nil {
		return errNoWHIP
	}
	slug := r.PathValue("slug")
	if _, err := s.whipStreamer(w, r, slug); err != nil {
		return err
	}
	if err := s.WHIP.End(slug, r.PathValue("id")); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}
