package onair

import "time"

// StationStatus is a station's state on air at one moment, as listeners
// see it: the relay makes it, control adds nothing, signalling and the web
// edge show it. A station that is not on air is simply not Live.
type StationStatus struct {
	Live       bool
	StartedAt  time.Time
	NowPlaying *NowPlaying // nil when not live or nothing playing
	Listeners  Listeners
	// Source is the live source on air; nil while the playlist plays.
	Source *LiveSource
}
