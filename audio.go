package onair

import "time"

// TrackKind says what a track is for: music plays in playlist order,
// jingles are slotted in between music tracks by a station's rotation.
type TrackKind string

// The track kinds.
const (
	KindMusic  TrackKind = "music"
	KindJingle TrackKind = "jingle"
)

// Valid reports whether k is a known kind.
func (k TrackKind) Valid() bool { return k == KindMusic || k == KindJingle }

// Track formats: what was uploaded, kept as it is on disk.
const (
	FormatMP3  = "mp3"
	FormatWAV  = "wav"
	FormatFLAC = "flac"
)

// Analysis is what ingest measured of a track's sound, once, at upload (or
// in the background for tracks uploaded before analysis existed).
type Analysis struct {
	// Loudness is the integrated loudness, LUFS (ITU-R BS.1770-4, gated).
	Loudness float64
	// Peak is the true peak, dBTP (4x oversampled).
	Peak float64
	// CueIn and CueOut bound the audible part: leading and trailing
	// silence is skipped at playout. CueOut is from the track's start.
	CueIn, CueOut time.Duration
}

// AudioSettings is how a station sounds: its mix and its MP3 output.
type AudioSettings struct {
	SampleRate int // the mix and the MP3 output, Hz: 44100 or 48000
	MP3Bitrate int // bit/s
	// Crossfade is the overlap between consecutive tracks; 0 cuts.
	Crossfade time.Duration
	// Loudness normalisation: each track is brought to LoudnessTarget
	// (LUFS) under a -1 dBTP true-peak ceiling.
	LoudnessEnabled bool
	LoudnessTarget  float64
	// JingleEvery N > 0 plays one jingle after every N music tracks,
	// rotating through the station's jingles; 0 plays none.
	JingleEvery int
}

// Sources of what a station plays, as history and now-playing name them.
const (
	SourcePlaylist = "playlist"
	SourceJingle   = "jingle"
	SourceLive     = "live"
)

// HistoryEntry is one thing a station played.
type HistoryEntry struct {
	TrackID   int64 // 0 for live segments
	Title     string
	Artist    string
	StartedAt time.Time
	Source    string // SourcePlaylist, SourceJingle or SourceLive
	// ListenersStart is how many listened when it started, and
	// ListenersDelta how many more (or fewer) when it ended: its "song
	// impact". Nil until known (the statistics had a sample then; the
	// newest entry has no end yet).
	ListenersStart, ListenersDelta *int
}

// Kinds of live sources.
const (
	LiveIcecast = "icecast" // an Icecast source client: butt, Mixxx, ffmpeg, Liquidsoap
	LiveWHIP    = "whip"    // a browser or WHIP client over WebRTC
)

// LiveSource is who has a station's air from its playlist.
type LiveSource struct {
	Kind        string    `json:"kind"`
	Streamer    string    `json:"streamer"` // display name
	ConnectedAt time.Time `json:"connected_at"`
}
