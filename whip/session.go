package whip

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/thesyncim/gopus"

	"github.com/onairfm/onair/relay"
)

// maxConceal is the longest run of lost packets concealed (Opus PLC); a
// longer gap is left to the feed, which plays silence for what is missing.
const maxConceal = 5

// session is one publisher: its PeerConnection, the feed its audio goes
// to once it sounds, and the goroutine that reads its track. run owns its
// life: it ends on the publisher's DELETE, a failed or closed peer, a
// track that is not Opus, no audio within connectWait, or the feed losing
// the air (the source stalled, or the station stopped).
type session struct {
	id, slug string
	channels int
	pc       *webrtc.PeerConnection
	goLive   func() (*relay.Feed, error)
	log      *slog.Logger

	stop     chan struct{} // closed by end
	stopOnce sync.Once
	why      string        // the first reason given to end
	onAir    chan struct{} // closed once feed is set
	done     chan struct{} // closed when shutdown has finished

	mu      sync.Mutex
	feed    *relay.Feed // nil until the first packet
	ended   bool        // no reader may start, no feed may be set
	track   bool        // a track is read
	readers sync.WaitGroup
}

func newSession(id, slug string, channels int, pc *webrtc.PeerConnection, log *slog.Logger, goLive func() (*relay.Feed, error)) *session {
	sess := &session{
		id: id, slug: slug, channels: channels, pc: pc, goLive: goLive,
		log:   log.With("station", slug, "session", id),
		stop:  make(chan struct{}),
		onAir: make(chan struct{}),
		done:  make(chan struct{}),
	}
	pc.OnTrack(sess.onTrack)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateFailed:
			sess.end("peer connection failed")
		case webrtc.PeerConnectionStateClosed:
			sess.end("peer connection closed")
		}
	})
	return sess
}

// answer applies the offer and returns the answer with every server
// candidate in it.
func (sess *session) answer(ctx context.Context, offer string) (string, error) {
	if err := sess.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("whip: apply offer: %w: %w", ErrBadOffer, err)
	}
	ans, err := sess.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("whip: create answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(sess.pc)
	if err := sess.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("whip: set answer: %w", err)
	}
	wait, cancel := context.WithTimeout(ctx, gatherWait)
	defer cancel()
	select {
	case <-gathered:
	case <-wait.Done():
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("whip: the publisher left before the answer: %w", err)
		}
		// The candidates so far are in the answer; ICE may still connect.
		sess.log.Warn("whip answer sent before gathering completed")
	}
	return sess.pc.LocalDescription().SDP, nil
}

// end asks run to end the session, giving why for the log.
func (sess *session) end(why string) {
	sess.stopOnce.Do(func() {
		sess.why = why
		close(sess.stop)
	})
}

// run waits for the session's end, then shuts it down.
func (sess *session) run(connectWait time.Duration) {
	timer := time.NewTimer(connectWait)
	defer timer.Stop()
	select {
	case <-sess.stop:
	case <-timer.C:
		sess.end("no audio within " + connectWait.String())
	case <-sess.onAir:
		lost := sess.feed.Done() // set before onAir closed
		select {
		case <-sess.stop:
		case <-lost:
			sess.end("the source lost the air: it sent nothing, or the station stopped")
		}
	}
	sess.shutdown()
	sess.log.Info("whip session ended", "why", sess.why)
}

// shutdown gives the air back, closes the peer and waits for its reader.
func (sess *session) shutdown() {
	sess.mu.Lock()
	sess.ended = true
	feed := sess.feed
	sess.mu.Unlock()
	if feed != nil {
		feed.Close()
	}
	_ = sess.pc.Close() // a close error leaves nothing to undo
	sess.readers.Wait()
	close(sess.done)
}

// takeAir puts the session on air at its first packet. It reports false
// when the session must end instead: it is ending already, or the station
// has another source or stopped playing since the offer.
func (sess *session) takeAir() (*relay.Feed, bool) {
	feed, err := sess.goLive()
	if err != nil {
		sess.end("cannot take the air: " + err.Error())
		return nil, false
	}
	sess.mu.Lock()
	if sess.ended {
		sess.mu.Unlock()
		feed.Close()
		return nil, false
	}
	sess.feed = feed
	sess.mu.Unlock()
	close(sess.onAir)
	sess.log.Info("whip source on air")
	return feed, true
}

// onTrack starts reading the publisher's audio track, on pion's goroutine.
func (sess *session) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if !strings.EqualFold(t.Codec().MimeType, webrtc.MimeTypeOpus) {
		sess.end("the track is " + t.Codec().MimeType + ", not Opus")
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.ended || sess.track {
		return // one audio track per session: checkOffer saw to that
	}
	sess.track = true
	sess.readers.Add(1)
	go func() {
		defer sess.readers.Done()
		sess.receive(t)
	}()
}

// receive decodes the track's Opus packets into the feed until the peer
// closes. Lost packets (a gap in the sequence) are concealed by the
// decoder, late ones dropped: the feed plays what comes in order.
func (sess *session) receive(t *webrtc.TrackRemote) {
	dec, err := gopus.NewDecoder(gopus.DefaultDecoderConfig(48000, sess.channels))
	if err != nil {
		sess.end("opus decoder: " + err.Error())
		return
	}
	pcm := make([]float32, 5760*sess.channels) // 120 ms, Opus's longest packet
	var last uint16
	lastN := 0
	var feed *relay.Feed
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return // the peer closed
		}
		if feed == nil {
			var ok bool
			if feed, ok = sess.takeAir(); !ok {
				return
			}
		} else {
			gap := int16(pkt.SequenceNumber - last)
			if gap <= 0 {
				continue // late or repeated
			}
			for i := 1; i < int(gap) && i <= maxConceal && lastN > 0; i++ {
				if n, err := dec.Decode(nil, pcm[:lastN*sess.channels]); err == nil {
					feed.Write(pcm[:n*sess.channels])
				}
			}
		}
		last = pkt.SequenceNumber
		feed.CountBytes(len(pkt.Payload))
		n, err := dec.Decode(pkt.Payload, pcm)
		if err != nil {
			feed.CountDecodeError()
			continue
		}
		lastN = n
		feed.Write(pcm[:n*sess.channels])
	}
}
