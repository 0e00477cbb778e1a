package onair

import "time"

// EventKind says what happened on a station.
type EventKind int

// The kinds of station events. The relay emits them; signalling turns them
// into the contract's WebSocket messages.
const (
	EventStarted   EventKind = iota + 1 // the station went live
	EventStopped                        // the station went off air
	EventMetadata                       // a new track, or the owner changed the metadata
	EventListeners                      // the number of audio listeners changed
	EventSource                         // a live source took the air or gave it back
)

func (k EventKind) String() string {
	switch k {
	case EventStarted:
		return "started"
	case EventStopped:
		return "stopped"
	case EventMetadata:
		return "metadata"
	case EventListeners:
		return "listeners"
	case EventSource:
		return "source"
	default:
		return "unknown"
	}
}

// NowPlaying is what a live station plays at this moment.
type NowPlaying struct {
	TrackID  int64
	Title    string
	Artist   string
	Album    string
	Show     string
	Duration time.Duration
	// StartedAt is when the track's first audio left the station clock
	// (with a crossfade: when its fade-in began).
	StartedAt time.Time
	// Source is SourcePlaylist, SourceJingle or SourceLive.
	Source string
	// HasArt says the track has cover art.
	HasArt bool
}

// Listeners counts a station's audio listeners by transport.
type Listeners struct {
	HTTP   int
	WebRTC int
}

// Total is the number of audio listeners on every transport.
func (l Listeners) Total() int { return l.HTTP + l.WebRTC }

// Event is one thing that happened on a station. Which fields are set
// depends on Kind: StartedAt for EventStarted, NowPlaying for EventMetadata,
// Listeners for EventListeners, Source (nil when the playlist is back) for
// EventSource.
type Event struct {
	Kind       EventKind
	Station    string // slug
	StartedAt  time.Time
	NowPlaying *NowPlaying
	Listeners  Listeners
	Source     *LiveSource
}
