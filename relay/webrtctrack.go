package relay

import "time"

// webrtcServer is the relay's WebRTC side: package rtc's Server, which
// cmd/onair wires in. It makes one track per live station. Peers never
// pass through the relay: signalling makes them with the WebRTC side,
// which finds a station's track by its slug, and the track tells the
// station about them through the WebRTCStation it was made with.
type webrtcServer interface {
	NewTrack(slug string, st WebRTCStation) (WebRTCTrack, error)
}

// WebRTCTrack is a live station's WebRTC output (an *rtc.Track). The
// station owns it: its clock alone writes to it, and it is closed when the
// station stops.
type WebRTCTrack interface {
	// Write hands one Opus packet of duration dur to every peer. It must
	// not block: the station clock calls it.
	Write(pkt []byte, dur time.Duration)
	// Active reports whether any peer is bound, so the station must
	// encode.
	Active() bool
	// Close ends every peer and the track's goroutines, and waits for
	// them.
	Close()
}

// WebRTCStation is what a station's WebRTC track tells it about its
// peers (rtc.Station). Its methods are called on the WebRTC side's
// goroutines and must not block.
type WebRTCStation interface {
	PeerBound()
	PeerConnected()
	PeerGone()
}

// webrtcPeers is a station as its WebRTC track sees it: it wakes the
// clock and counts the listeners.
type webrtcPeers struct{ s *station }

// PeerBound wakes the clock, so that it starts encoding for the new peer
// at once rather than at its next tick.
func (w webrtcPeers) PeerBound() { w.s.nudge() }

// PeerConnected counts a WebRTC listener whose connection is up.
func (w webrtcPeers) PeerConnected() {
	w.s.webrtcCount.Add(1)
	w.s.publishListeners()
}

// PeerGone is the one place a WebRTC listener of the station stops being
// counted: its peer closed (it left, ICE failed, the station stopped)
// after it had connected.
func (w webrtcPeers) PeerGone() {
	w.s.webrtcCount.Add(-1)
	w.s.publishListeners()
}

// closeWebRTC closes every peer of a station that stopped.
func (s *station) closeWebRTC() {
	if s.webrtc != nil {
		s.webrtc.Close()
	}
}
