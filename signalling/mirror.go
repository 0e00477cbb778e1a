package signalling

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// mirror carries what a hub's clients say to the other nodes of a cluster
// (package cluster, wired by cmd). Its methods are called once per chat
// message or like, after the local room has it, and must not block.
type mirror interface {
	Chat(slug string, frame []byte)
	Likes(slug string, count int64)
}

// maxChatFrame bounds a chat:message frame from another node: 500
// characters of up to 4 bytes, JSON escapes and the envelope.
const maxChatFrame = 8 << 10

// DeliverChat hands the hub a chat:message frame that a client of another
// node sent (its node checked the sender and the text). The frame is
// checked again, rebuilt from its fields and added to the room's history
// and members like a local message. The room is made when missing, so
// that a client joining later still sees the conversation.
func (h *Hub) DeliverChat(slug string, frame []byte) error {
	h.init()
	if len(frame) > maxChatFrame {
		return fmt.Errorf("%w: chat frame of %d bytes", ErrBadPeerMessage, len(frame))
	}
	var in struct {
		Event string  `json:"event"`
		Data  chatMsg `json:"data"`
	}
	if err := json.Unmarshal(frame, &in); err != nil {
		return fmt.Errorf("%w: %w", ErrBadPeerMessage, err)
	}
	m := in.Data
	text, err := cleanChat(m.Text)
	switch {
	case in.Event != evChat || m.Station != slug:
		return fmt.Errorf("%w: not a chat message of %q", ErrBadPeerMessage, slug)
	case err != nil || text != m.Text:
		return fmt.Errorf("%w: chat text", ErrBadPeerMessage)
	case m.User == "" || utf8.RuneCountInString(m.User) > 64:
		return fmt.Errorf("%w: chat user", ErrBadPeerMessage)
	}
	if _, err := time.Parse(timeLayout, m.At); err != nil {
		return fmt.Errorf("%w: chat time: %w", ErrBadPeerMessage, err)
	}
	b, err := encode(evChat, m, "")
	if err != nil {
		return err
	}
	return h.locked(func(o *outbox) error {
		r := h.roomLocked(slug)
		// IDs are given by the node that took the message; keep ours
		// above the highest seen so that messages taken here sort after.
		r.nextChatID = max(r.nextChatID, m.ID)
		return h.addChatLocked(o, r, b)
	})
}

// DeliverLikes tells a room the like count another node learned.
func (h *Hub) DeliverLikes(slug string, count int64) {
	h.init()
	if count < 0 {
		return
	}
	h.sendLikes(slug, count)
}
