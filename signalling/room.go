package signalling

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/onairfm/onair"
)

// room is a station's audience: the sockets that joined it, its recent
// chat and its coalesced listener count. Guarded by Hub.mu. A room outlives
// its members while it holds chat history, so a client that joins later
// still sees the conversation.
type room struct {
	slug    string
	members map[*conn]struct{}
	// chat holds the last encoded chat:message frames in ID order.
	chat       []chatFrame
	nextChatID int64 // the last ID given here, on a single node
	// likes is the highest like count seen, so counts from concurrent
	// likes never go backwards on the wire.
	likes int64

	lastListeners time.Time        // when the last stream:listeners left
	pending       *onair.Listeners // a count waiting for the window to end
	dueAt         time.Time
}

// chatFrame is a chat:message frame kept in a room's history.
type chatFrame struct {
	id    int64
	frame []byte
}

// broadcast addresses msg to every member; o sends it once Hub.mu is
// released.
func (r *room) broadcast(o *outbox, msg outbound) {
	for c := range r.members {
		o.add(c, msg)
	}
}

// outbox holds what a change made under Hub.mu sends. Pushing may shut a
// slow client's socket, so it happens after Hub.mu is released, under
// Hub.fan, which keeps every client's messages in the order the changes
// were made (a join's welcome before the broadcasts that follow it).
type outbox []delivery

type delivery struct {
	c *conn
	m outbound
}

func (o *outbox) add(c *conn, m outbound) { *o = append(*o, delivery{c, m}) }

// locked runs fn under Hub.mu, then pushes what fn addressed.
func (h *Hub) locked(fn func(o *outbox) error) error {
	h.fan.Lock()
	defer h.fan.Unlock()
	var o outbox
	h.mu.Lock()
	err := fn(&o)
	h.mu.Unlock()
	for _, d := range o {
		d.c.push(d.m)
	}
	return err
}

// roomLocked returns slug's room, creating it. Rooms are only created for
// stations the store knows, so their number stays bounded.
func (h *Hub) roomLocked(slug string) *room {
	r := h.rooms[slug]
	if r == nil {
		r = &room{slug: slug, members: make(map[*conn]struct{})}
		h.rooms[slug] = r
	}
	return r
}

// isMember reports whether c joined slug's room.
func (h *Hub) isMember(c *conn, slug string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := c.rooms[slug]
	return ok
}

// join adds c to slug's room and queues its welcome in the contract's
// order: live/offline (carrying the request's ref), metadata when live,
// listeners, the recent chat and the like count. It is one queue item,
// pushed in order with the broadcasts, so none slips in between.
func (h *Hub) join(c *conn, slug string, st onair.StationStatus, likes int64, haveLikes bool, ref string) error {
	return h.locked(func(o *outbox) error { return h.joinLocked(o, c, slug, st, likes, haveLikes, ref) })
}

func (h *Hub) joinLocked(o *outbox, c *conn, slug string, st onair.StationStatus, likes int64, haveLikes bool, ref string) error {
	if _, ok := c.rooms[slug]; !ok && len(c.rooms) >= h.lim.MaxRooms {
		return onair.Errorf(onair.ERateLimited, "a connection may be in at most %d rooms", h.lim.MaxRooms)
	}
	r := h.roomLocked(slug)
	var welcome batch
	add := func(event string, data any, ref string) {
		if b, err := encode(event, data, ref); err == nil {
			welcome = append(welcome, b)
		}
	}
	if st.Live {
		add(evLive, stationMsg{Station: slug}, ref)
		if st.NowPlaying != nil {
			add(evMetadata, newMetadataMsg(slug, st.NowPlaying), "")
		}
	} else {
		add(evOffline, stationMsg{Station: slug}, ref)
	}
	add(evListeners, newListenersMsg(slug, st.Listeners), "")
	for _, c := range r.chat {
		welcome = append(welcome, c.frame)
	}
	if haveLikes {
		r.likes = max(r.likes, likes)
		add(evCount, countMsg{Station: slug, Type: likeType, Count: r.likes}, "")
	}
	r.members[c] = struct{}{}
	c.rooms[slug] = struct{}{}
	o.add(c, welcome)
	return nil
}

// leave takes c out of slug's room; leaving a room one is not in is fine.
func (h *Hub) leave(c *conn, slug string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leaveLocked(c, slug)
}

func (h *Hub) leaveLocked(c *conn, slug string) {
	delete(c.rooms, slug)
	r := h.rooms[slug]
	if r == nil {
		return
	}
	delete(r.members, c)
	if len(r.members) == 0 {
		// Nobody to tell: a waiting count is stale by the next join.
		r.pending = nil
		delete(h.due, r)
		if len(r.chat) == 0 {
			delete(h.rooms, slug)
		}
	}
}

// postChat appends a chat message to the room and sends it to every
// member, the sender included. It returns the message's frame, for the
// other nodes of a cluster. In a cluster the ID is the Mirror's, asked
// once the sender may post (so a refused message costs no ID) and outside
// the lock; on a single node it is the room's counter.
func (h *Hub) postChat(ctx context.Context, c *conn, slug string, u *onair.User, text string) ([]byte, error) {
	if h.Mirror == nil {
		var frame []byte
		err := h.locked(func(o *outbox) error {
			r, err := h.mayChatLocked(c, slug, u)
			if err != nil {
				return err
			}
			r.nextChatID++
			frame, err = h.addNewChatLocked(o, r, r.nextChatID, u, text)
			return err
		})
		return frame, err
	}
	if err := h.locked(func(*outbox) error { _, err := h.mayChatLocked(c, slug, u); return err }); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, chatIDTimeout)
	defer cancel()
	id, err := h.Mirror.ChatID(ctx)
	if err != nil {
		return nil, fmt.Errorf("signalling: chat in %s: %w", slug, err)
	}
	var frame []byte
	err = h.locked(func(o *outbox) error {
		r := h.rooms[slug]
		if _, ok := c.rooms[slug]; !ok || r == nil {
			return errNotJoined(slug) // left while the ID was asked for
		}
		var err error
		frame, err = h.addNewChatLocked(o, r, id, u, text)
		return err
	})
	return frame, err
}

// chatIDTimeout bounds the wait for a cluster-wide chat ID.
const chatIDTimeout = 5 * time.Second

// mayChatLocked checks that c is in slug's room and u within the chat rate,
// taking one of u's chat tokens.
func (h *Hub) mayChatLocked(c *conn, slug string, u *onair.User) (*room, error) {
	r := h.rooms[slug]
	if _, ok := c.rooms[slug]; !ok || r == nil {
		return nil, errNotJoined(slug)
	}
	if !h.chatLim.allow(u.ID, h.now()) {
		return nil, onair.Errorf(onair.ERateLimited, "too many chat messages, slow down")
	}
	return r, nil
}

func (h *Hub) addNewChatLocked(o *outbox, r *room, id int64, u *onair.User, text string) ([]byte, error) {
	b, err := encode(evChat, chatMsg{
		Station: r.slug,
		ID:      id,
		User:    u.Username,
		Text:    text,
		At:      *formatTime(h.now()),
	}, "")
	if err != nil {
		return nil, err
	}
	return b, h.addChatLocked(o, r, id, b)
}

// addChatLocked keeps a chat frame in the room's history, in ID order, and
// sends it to every member. A frame the history holds already (the same ID
// and bytes) is neither kept nor sent again. Frames from other nodes may
// arrive after a newer one: they take their place in the history, which
// is what a later join sees, while members get each as it comes.
func (h *Hub) addChatLocked(o *outbox, r *room, id int64, b []byte) error {
	at, found := slices.BinarySearchFunc(r.chat, id, func(c chatFrame, id int64) int { return cmp.Compare(c.id, id) })
	for i := at; found && i < len(r.chat) && r.chat[i].id == id; i++ {
		if bytes.Equal(r.chat[i].frame, b) {
			return nil
		}
	}
	msg, err := newShared(b)
	if err != nil {
		return err
	}
	if found { // another message with this ID (a reset sequence): after it
		for at < len(r.chat) && r.chat[at].id == id {
			at++
		}
	}
	r.chat = slices.Insert(r.chat, at, chatFrame{id: id, frame: b})
	if n := len(r.chat) - h.lim.ChatHistory; n > 0 {
		r.chat = append(r.chat[:0], r.chat[n:]...)
	}
	r.broadcast(o, msg)
	return nil
}

// sendLikes tells the room its like count, never a lower one than sent
// before.
func (h *Hub) sendLikes(slug string, count int64) {
	_ = h.locked(func(o *outbox) error {
		h.sendLikesLocked(o, slug, count)
		return nil
	})
}

func (h *Hub) sendLikesLocked(o *outbox, slug string, count int64) {
	r := h.rooms[slug]
	if r == nil {
		return
	}
	r.likes = max(r.likes, count)
	b, err := encode(evCount, countMsg{Station: slug, Type: likeType, Count: r.likes}, "")
	if err != nil {
		h.log.Error("encode like count", "err", err)
		return
	}
	msg, err := newShared(b)
	if err != nil {
		h.log.Error("prepare like count", "err", err)
		return
	}
	r.broadcast(o, msg)
}

// listenersChanged sends a room its listener count at once if the last one
// left at least ListenersInterval ago, else keeps it for the end of the
// window; a newer count replaces a waiting one, so the last always
// arrives.
func (h *Hub) listenersChanged(slug string, l onair.Listeners, now time.Time) {
	_ = h.locked(func(o *outbox) error {
		r := h.rooms[slug]
		if r == nil || len(r.members) == 0 {
			return nil
		}
		if r.pending == nil && now.Sub(r.lastListeners) >= h.lim.ListenersInterval {
			h.sendListenersLocked(o, r, l, now)
			return nil
		}
		r.pending = &l
		r.dueAt = r.lastListeners.Add(h.lim.ListenersInterval)
		h.due[r] = struct{}{}
		return nil
	})
}

// flushListeners sends every waiting count whose window has ended.
func (h *Hub) flushListeners(now time.Time) {
	_ = h.locked(func(o *outbox) error {
		for r := range h.due {
			if now.Before(r.dueAt) {
				continue
			}
			delete(h.due, r)
			if r.pending != nil {
				h.sendListenersLocked(o, r, *r.pending, now)
			}
		}
		return nil
	})
}

// nextListeners returns how long until the earliest waiting count is due.
func (h *Hub) nextListeners(now time.Time) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next time.Time
	for r := range h.due {
		if next.IsZero() || r.dueAt.Before(next) {
			next = r.dueAt
		}
	}
	if next.IsZero() {
		return 0, false
	}
	return max(next.Sub(now), 0), true
}

func (h *Hub) sendListenersLocked(o *outbox, r *room, l onair.Listeners, now time.Time) {
	r.pending = nil
	r.lastListeners = now
	b, err := encode(evListeners, newListenersMsg(r.slug, l), "")
	if err != nil {
		h.log.Error("encode listeners", "err", err)
		return
	}
	msg, err := newShared(b)
	if err != nil {
		h.log.Error("prepare listeners", "err", err)
		return
	}
	r.broadcast(o, msg)
}

func errNotJoined(slug string) error {
	return onair.Errorf(onair.EInvalid, "join %q first (stream:join)", slug)
}
