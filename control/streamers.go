package control

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
)

// maxDisplayName bounds a streamer's display name, in characters.
const maxDisplayName = 100

// defaultPasswords hashes and checks streamer passwords when Service.Auth
// is nil: bcrypt at its default cost, like accounts.
var defaultPasswords = &auth.Service{}

func (s *Service) passwords() *auth.Service {
	if s.Auth != nil {
		return s.Auth
	}
	return defaultPasswords
}

// NewStreamer is what an owner gives to let someone broadcast live.
type NewStreamer struct {
	Username    string
	Password    string
	DisplayName string // optional: the username is shown without it
}

// CreateStreamer adds a streamer to station slug; its owner or an admin
// may. Names and passwords follow the rules of accounts.
func (s *Service) CreateStreamer(ctx context.Context, u *onair.User, slug string, in NewStreamer) (*onair.Streamer, error) {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(onair.OneLine(in.DisplayName))
	if utf8.RuneCountInString(name) > maxDisplayName {
		return nil, onair.Errorf(onair.EInvalid, "display name must be at most %d characters", maxDisplayName)
	}
	if err := auth.ValidateUsername(in.Username); err != nil {
		return nil, fmt.Errorf("control: create streamer: %w", err)
	}
	hash, err := s.passwords().HashPassword(in.Password)
	if err != nil {
		return nil, fmt.Errorf("control: create streamer %q: %w", in.Username, err)
	}
	return s.Store.CreateStreamer(ctx, st.ID, in.Username, name, hash)
}

// Streamers lists station slug's streamers (never their passwords); its
// owner or an admin may.
func (s *Service) Streamers(ctx context.Context, u *onair.User, slug string) ([]*onair.Streamer, error) {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return nil, err
	}
	return s.Store.Streamers(ctx, st.ID)
}

// DeleteStreamer removes a streamer of station slug; its owner or an admin
// may. A source it has on air stays until it disconnects.
func (s *Service) DeleteStreamer(ctx context.Context, u *onair.User, slug, username string) error {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return err
	}
	return s.Store.DeleteStreamer(ctx, st.ID, username)
}

// AuthStreamer checks a source client's credentials for station slug and
// returns the streamer; its Name() is what listeners see. An unknown name
// or a wrong password is ErrBadStreamer (401), credentials of another
// station's streamer ErrOtherStation (403), an unknown station ENotFound.
// Every failure costs at least one bcrypt check, so timing tells little.
func (s *Service) AuthStreamer(ctx context.Context, slug, username, password string) (*onair.Streamer, error) {
	st, err := s.Store.StationBySlug(ctx, slug)
	if err != nil {
		s.passwords().CheckPassword("", password)
		return nil, err
	}
	named, err := s.Store.StreamersNamed(ctx, st.ID, username)
	if err != nil {
		return nil, fmt.Errorf("control: streamer login: %w", err)
	}
	if len(named) == 0 {
		s.passwords().CheckPassword("", password)
		return nil, ErrBadStreamer
	}
	for _, n := range named {
		if !s.passwords().CheckPassword(n.PasswordHash, password) {
			continue
		}
		if n.StationID != st.ID {
			return nil, ErrOtherStation
		}
		return n.Streamer, nil
	}
	return nil, ErrBadStreamer
}
