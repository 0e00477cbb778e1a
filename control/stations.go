package control

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

const (
	maxName = 100  // characters in a station name
	maxText = 1000 // characters in a description, genre or metadata field
	maxSlug = 48
)

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)

// NewStation is what an owner gives to create a station.
type NewStation struct {
	Name        string
	Slug        string // optional: made from the name
	Description string
	Genre       string
}

// CreateStation creates a station owned by u.
func (s *Service) CreateStation(ctx context.Context, u *onair.User, in NewStation) (*onair.Station, error) {
	if u == nil {
		return nil, onair.Errorf(onair.EUnauthorized, "log in to create a station")
	}
	if !u.CanCreateStations() {
		return nil, onair.Errorf(onair.EForbidden, "only owners and admins may create stations")
	}
	st := &onair.Station{
		Name:        strings.TrimSpace(in.Name),
		Description: strings.TrimSpace(in.Description),
		Genre:       strings.TrimSpace(in.Genre),
		OwnerID:     u.ID,
		Loop:        true,
		Audio:       s.AudioDefaults,
	}
	if err := checkText(st.Name, st.Description, st.Genre); err != nil {
		return nil, err
	}
	if in.Slug != "" {
		st.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
		if !slugRE.MatchString(st.Slug) {
			return nil, onair.Errorf(onair.EInvalid, "slug %q: use 1 to %d lowercase letters, digits and inner dashes", in.Slug, maxSlug)
		}
		if err := s.Store.CreateStation(ctx, st); err != nil {
			return nil, err
		}
		return st, nil
	}
	// A slug made from the name gets a number when it is taken.
	base := slugify(st.Name)
	for i := 1; i <= 100; i++ {
		st.Slug = base
		if i > 1 {
			suffix := fmt.Sprintf("-%d", i)
			st.Slug = strings.TrimRight(base[:min(len(base), maxSlug-len(suffix))], "-") + suffix
		}
		err := s.Store.CreateStation(ctx, st)
		if err == nil {
			return st, nil
		}
		if onair.ErrorCode(err) != onair.EConflict {
			return nil, err
		}
	}
	return nil, onair.Errorf(onair.EConflict, "no free slug for %q: give one", st.Name)
}

func checkText(name, description, genre string) error {
	switch n := len([]rune(name)); {
	case n == 0:
		return onair.Errorf(onair.EInvalid, "a station needs a name")
	case n > maxName:
		return onair.Errorf(onair.EInvalid, "station names are limited to %d characters", maxName)
	}
	if len([]rune(description)) > maxText || len([]rune(genre)) > maxText {
		return onair.Errorf(onair.EInvalid, "description and genre are limited to %d characters", maxText)
	}
	return nil
}

// slugify makes a URL-safe slug from a station name.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	slug := strings.Trim(b.String(), "-")
	if len(slug) > maxSlug {
		slug = strings.TrimRight(slug[:maxSlug], "-")
	}
	if slug == "" {
		slug = "station"
	}
	return slug
}

// StationPatch is an owner's change to a station; nil fields stay.
type StationPatch struct {
	Name        *string
	Description *string
	Genre       *string
	Shuffle     *bool
	Loop        *bool
	Audio       *AudioPatch
}

// UpdateStation changes a station. A live station takes the change at once:
// new listeners see the new name, and shuffle and loop apply from the next
// track.
func (s *Service) UpdateStation(ctx context.Context, u *onair.User, slug string, p StationPatch) (*onair.Station, error) {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return nil, err
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&st.Name, p.Name)
	set(&st.Description, p.Description)
	set(&st.Genre, p.Genre)
	if p.Shuffle != nil {
		st.Shuffle = *p.Shuffle
	}
	if p.Loop != nil {
		st.Loop = *p.Loop
	}
	if err := checkText(st.Name, st.Description, st.Genre); err != nil {
		return nil, err
	}
	if p.Audio != nil {
		p.Audio.apply(&st.Audio)
		if err := st.Audio.Check(); err != nil {
			return nil, err
		}
	}
	if err := s.Store.UpdateStation(ctx, st); err != nil {
		return nil, err
	}
	if s.Relay.Status(st.Slug).Live {
		s.Relay.SetInfo(info(st))
		if p.Audio != nil {
			if err := s.Relay.SetAudio(st.Slug, st.Audio); err != nil && !errors.Is(err, relay.ErrNotLive) {
				return nil, err
			}
		}
		if p.Shuffle != nil || p.Loop != nil {
			if err := s.resync(ctx, st); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// DeleteStation takes a station off air and deletes it with its tracks and
// their files.
func (s *Service) DeleteStation(ctx context.Context, u *onair.User, slug string) error {
	st, err := s.manage(ctx, u, slug)
	if err != nil {
		return err
	}
	unlock := s.live.lock(st.Slug)
	_ = s.Relay.Stop(st.Slug)
	tracks, err := s.Store.DeleteStation(ctx, st.Slug)
	unlock()
	if err != nil {
		return err
	}
	for _, t := range tracks {
		if err := s.Ingest.Remove(t); err != nil {
			s.logger().Warn("removing a deleted station's file", "file", t.Path, "err", err)
		}
	}
	return nil
}
