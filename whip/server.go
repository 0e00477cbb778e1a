// Package whip takes live audio from WHIP publishers (RFC 9725): the
// dashboard's "Go live" button, or any WHIP client, offers one Opus track
// over WebRTC; whip answers it, decodes the Opus it receives and writes the
// PCM into the station's live feed, which takes the air from the playlist
// until the session ends. It owns the sessions and their pion peers; the
// HTTP edge (status codes, auth, Location) is web's, and the pion API with
// the server's network settings is made by whoever fills Server.
package whip

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

// gatherWait bounds how long an answer waits for the server's ICE
// candidates. WHIP here is not trickled: the answer carries every server
// candidate, and gathering host candidates (or those of the shared UDP
// port) takes milliseconds.
const gatherWait = 2 * time.Second

// connectWait is the default of Server.ConnectWait.
const connectWait = 10 * time.Second

// stations is the engine seam: a live source takes a station's air.
type stations interface {
	GoLive(slug string, src onair.LiveSource, rate, channels int) (*relay.Feed, error)
	Status(slug string) onair.StationStatus
}

// Server holds the WHIP sessions of every station. Fill the fields before
// the first Publish; Close ends every session.
type Server struct {
	// NewPeerConnection makes a PeerConnection with the server's WebRTC
	// settings (loopback only, UDP port, public IPs, ICE servers). Its
	// media engine must know Opus.
	NewPeerConnection func() (*webrtc.PeerConnection, error)
	// Relay gives sessions the air.
	Relay stations
	// ConnectWait bounds how long a session may wait for its first audio
	// packet (ICE, DTLS, then RTP) before it is given up; 0 means 10 s.
	ConnectWait time.Duration
	Logger      *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
	wg       sync.WaitGroup
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Publish answers a WHIP offer for station slug from streamer (the display
// name the station announces). It returns the session id, for End, and
// the SDP answer, which holds every server candidate. The session takes
// the station's air when its first audio packet arrives, so the playlist
// plays on while ICE and DTLS connect instead of fading into silence.
//
// An offer without one sendable Opus audio track is refused before
// anything is made (ErrBadOffer, ErrNoAudio, ErrTwoAudio, ErrCodec). A
// station with a source on air, or with another WHIP session open, answers
// ErrBusy; one that is not playing ErrNotOnAir.
func (s *Server) Publish(ctx context.Context, slug, streamer, offer string) (id, answer string, err error) {
	audio, err := checkOffer(offer)
	if err != nil {
		return "", "", err
	}
	switch st := s.Relay.Status(slug); {
	case !st.Live:
		return "", "", fmt.Errorf("whip: %s: %w", slug, ErrNotOnAir)
	case st.Source != nil:
		return "", "", fmt.Errorf("whip: %s: %w", slug, ErrBusy)
	}
	pc, err := s.NewPeerConnection()
	if err != nil {
		return "", "", fmt.Errorf("whip: new peer connection: %w", err)
	}
	src := onair.LiveSource{Kind: onair.LiveWHIP, Streamer: streamer}
	sess := newSession(newID(), slug, audio.channels, pc, s.logger(), func() (*relay.Feed, error) {
		return s.Relay.GoLive(slug, src, 48000, audio.channels)
	})
	if err := s.add(sess); err != nil {
		_ = pc.Close()
		return "", "", err
	}
	answer, err = sess.answer(ctx, offer)
	if err != nil {
		sess.end("no answer: " + err.Error())
		<-sess.done
		return "", "", err
	}
	sess.log.Info("whip session answered", "streamer", streamer, "channels", audio.channels)
	return sess.id, answer, nil
}

// add registers sess and starts its run loop, unless the server is closed
// or the station has a session already.
func (s *Server) add(sess *session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	for _, o := range s.sessions {
		if o.slug == sess.slug {
			return fmt.Errorf("whip: %s: %w", sess.slug, ErrBusy)
		}
	}
	if s.sessions == nil {
		s.sessions = map[string]*session{}
	}
	s.sessions[sess.id] = sess
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sess.run(cmp.Or(s.ConnectWait, connectWait))
		s.mu.Lock()
		delete(s.sessions, sess.id)
		s.mu.Unlock()
	}()
	return nil
}

// End ends session id of station slug, as its publisher's DELETE asks:
// the feed closes, the playlist takes the air back, and the peer closes.
// It returns once the air is given back.
func (s *Server) End(slug, id string) error {
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil || sess.slug != slug {
		return fmt.Errorf("whip: end %s/%s: %w", slug, id, ErrNoSession)
	}
	sess.end("ended by the publisher")
	<-sess.done
	return nil
}

// Sessions is the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	open := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		open = append(open, sess)
	}
	s.mu.Unlock()
	for _, sess := range open {
		sess.end("server closing")
	}
	s.wg.Wait()
	return nil
}

// newID is a session id: 128 random bits, so that a session's URL cannot
// be guessed.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
