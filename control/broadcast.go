package control

import (
	"context"

	"github.com/onairfm/onair"
)

// CanBroadcast reports whether account u may go live on station slug
// itself, as the dashboard's "Go live" does: its owner or an admin may
// (401 for nobody, 403 for somebody else's station, 404 for none). It
// returns the name the station announces while u is on air. Streamers
// log in with AuthStreamer instead.
func (s *Service) CanBroadcast(ctx context.Context, u *onair.User, slug string) (string, error) {
	if _, err := s.manage(ctx, u, slug); err != nil {
		return "", err
	}
	return u.Username, nil
}
