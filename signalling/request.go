package signalling

import (
	"context"
	"fmt"

	"github.com/onairfm/onair"
)

// handle runs one decoded request. A returned error is sent to the client
// as the error event; replies and acks are queued by the handlers.
func (c *conn) handle(ctx context.Context, req request) error {
	switch d := req.Data.(type) {
	case *authData:
		return c.authenticate(ctx, req.Ref, d)
	case *stationData:
		switch req.Event {
		case evJoin:
			return c.join(ctx, req.Ref, d.Station)
		case evLeave:
			return c.leave(req.Ref, d.Station)
		case evStop:
			return c.control(req.Ref, func(ctl controller) error {
				return ctl.StopStation(ctx, c.user, d.Station)
			})
		}
	case *startData:
		var track int64
		if d.TrackID != nil {
			track = *d.TrackID
		}
		return c.control(req.Ref, func(ctl controller) error {
			return ctl.StartStation(ctx, c.user, d.Station, track)
		})
	case *metadataData:
		md := onair.MetadataUpdate{Title: d.Title, Artist: d.Artist, Show: d.Show}
		return c.control(req.Ref, func(ctl controller) error {
			return ctl.UpdateMetadata(ctx, c.user, d.Station, md)
		})
	case *offerData:
		return c.offer(req.Ref, d)
	case *candidateData:
		return c.candidate(req.Ref, d)
	case *chatData:
		return c.chat(ctx, req.Ref, d)
	case *interactionData:
		return c.like(ctx, req.Ref, d)
	}
	return fmt.Errorf("signalling: no handler for %s", req.Event)
}

// authenticate switches the socket to the token's user. A bad token leaves
// the socket as it was (anonymous or its previous user).
func (c *conn) authenticate(ctx context.Context, ref string, d *authData) error {
	ends := c.hub.endCount()
	u, err := c.hub.userByToken(ctx, d.Token)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.user, c.token = u, d.Token
	c.mu.Unlock()
	if c.hub.endCount() != ends {
		// Sessions ended while this one was looked up, before the socket
		// carried its token: if it was this one, it ends here.
		if u2, err := c.hub.userByToken(ctx, d.Token); err != nil || u2 == nil {
			c.kill(closeSessionEnded, "session ended")
			return nil
		}
	}
	c.reply(evAuth, authMsg{User: u}, ref)
	return nil
}

func (c *conn) join(ctx context.Context, ref, slug string) error {
	h := c.hub
	if h.Stations == nil {
		return fmt.Errorf("signalling: join %s: no station state configured", slug)
	}
	st, err := h.Stations.StationState(ctx, slug)
	if err != nil {
		return fmt.Errorf("signalling: join %s: %w", slug, err)
	}
	var likes int64
	haveLikes := false
	if h.Likes != nil {
		// Likes are a garnish: failing to count them must not keep a
		// listener out of the room.
		if likes, err = h.Likes.Likes(ctx, slug); err != nil {
			c.logger().Warn("count likes", "station", slug, "err", err)
		} else {
			haveLikes = true
		}
	}
	return h.join(c, slug, st, likes, haveLikes, ref)
}

// leave leaves the room and closes this socket's PeerConnection for the
// station.
func (c *conn) leave(ref, slug string) error {
	c.hub.leave(c, slug)
	if e := c.detachPeer(slug); e != nil {
		e.close()
	}
	c.ack(ref)
	return nil
}

// control runs an owner request. Anonymous sockets are refused here; who
// may do what is the controller's business.
func (c *conn) control(ref string, do func(controller) error) error {
	if c.user == nil {
		return onair.Errorf(onair.EUnauthorized, "log in to control a station")
	}
	if c.hub.Control == nil {
		return fmt.Errorf("signalling: no station controller configured")
	}
	if err := do(c.hub.Control); err != nil {
		return err
	}
	c.ack(ref)
	return nil
}
