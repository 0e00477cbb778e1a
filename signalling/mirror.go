package signalling

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// mirror carries what a hub's clients say to the other nodes of a cluster
// (package cluster, wired by cmd). Chat and Likes are called once per chat
// message or like, after the local room has it, and must not block.
// ChatID gives a chat message its ID before it is posted: IDs are unique
// and increasing over the whole cluster, where two nodes' own counters
// would give the same ID to different messages. It may wait on the
// network; it is never called under the hub's lock.
type mirror interface {
	Chat(slug string, frame []byte)
	Likes(slug string, count int64)
	ChatID(ctx context.Context) (int64, error)
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
	if m.ID <= 0 {
		return fmt.Errorf("%w: chat id %d", ErrBadPeerMessage, m.ID)
	}
	return h.locked(func(o *outbox) error {
		return h.addChatLocked(o, h.roomLocked(slug), m.ID, b)
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
