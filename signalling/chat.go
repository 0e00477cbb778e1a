package signalling

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onairfm/onair"
)

// Chat and likes need an account and membership of the station's room:
// the message goes to the room, so a sender outside it would never see it,
// and requiring the join keeps anonymous drive-by posting out.

func (c *conn) chat(ctx context.Context, ref string, d *chatData) error {
	if c.user == nil {
		return onair.Errorf(onair.EUnauthorized, "log in to chat")
	}
	text, err := cleanChat(d.Text)
	if err != nil {
		return err
	}
	frame, err := c.hub.postChat(ctx, c, d.Station, c.user, text)
	if err != nil {
		return err
	}
	if m := c.hub.Mirror; m != nil {
		m.Chat(d.Station, frame)
	}
	c.hub.engaged(d.Station, "chat")
	c.ack(ref)
	return nil
}

// cleanChat removes control characters other than newline and trims
// surrounding space. The text is otherwise kept exactly as written: pages
// render it as text, never as HTML.
func cleanChat(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r != '\n' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", onair.Errorf(onair.EInvalid, "chat:send: \"text\" is empty")
	case n > maxChatRunes:
		return "", onair.Errorf(onair.EInvalid, "chat:send: \"text\" is longer than %d characters", maxChatRunes)
	}
	return s, nil
}

func (c *conn) like(ctx context.Context, ref string, d *interactionData) error {
	h := c.hub
	if c.user == nil {
		return onair.Errorf(onair.EUnauthorized, "log in to like")
	}
	if !h.isMember(c, d.Station) {
		return errNotJoined(d.Station)
	}
	if !h.likeLim.allow(c.user.ID, h.now()) {
		return onair.Errorf(onair.ERateLimited, "too many likes, slow down")
	}
	if h.Likes == nil {
		return fmt.Errorf("signalling: like %s: no like store configured", d.Station)
	}
	n, err := h.Likes.AddLike(ctx, d.Station)
	if err != nil {
		return fmt.Errorf("signalling: like %s: %w", d.Station, err)
	}
	h.sendLikes(d.Station, n)
	if m := h.Mirror; m != nil {
		m.Likes(d.Station, n)
	}
	h.engaged(d.Station, "like")
	c.ack(ref)
	return nil
}

// engaged tells OnEngagement of a chat message or like.
func (h *Hub) engaged(station, kind string) {
	if h.OnEngagement != nil {
		h.OnEngagement(station, kind)
	}
}
