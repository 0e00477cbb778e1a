// Package onair holds the domain of the onair radio server: stations, tracks,
// users and the events a live station emits. It depends on the standard
// library only, so every other package can share these types without
// depending on each other.
package onair

import (
	"strings"
	"time"
)

// Role says what a user may do. Listening needs no account at all.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin    Role = "admin"    // everything
	RoleOwner    Role = "owner"    // their own stations
	RoleListener Role = "listener" // chat and likes
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleOwner || r == RoleListener
}

// User is an account. The password hash never leaves the store.
type User struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"-"`
	// Disabled accounts cannot log in and have no sessions; an admin
	// sets it. Shown only in the admin's user list.
	Disabled bool `json:"disabled,omitempty"`
}

// CanCreateStations reports whether u may own stations.
func (u *User) CanCreateStations() bool {
	return u != nil && (u.Role == RoleAdmin || u.Role == RoleOwner)
}

// CanManage reports whether u may change st: its owner or an admin.
func (u *User) CanManage(st *Station) bool {
	if u == nil || st == nil {
		return false
	}
	return u.Role == RoleAdmin || (u.Role == RoleOwner && st.OwnerID == u.ID)
}

// Station is a radio station as stored. What it is playing right now lives
// in the relay, not here.
type Station struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	Genre       string
	OwnerID     int64
	Owner       string // owner's username, filled by the store
	Shuffle     bool
	Loop        bool
	// Live is the owner's intent: a live station plays, also after a restart.
	Live bool
	// Show is the show title the owner set; empty when none.
	Show string
	// CurrentTrackID is the track that was playing when the state was last
	// saved, so a restart resumes where it was. Zero when none.
	CurrentTrackID int64
	// Likes counts the likes listeners gave the station.
	Likes int64
	// Audio is how the station's mix sounds and is encoded.
	Audio     AudioSettings
	CreatedAt time.Time
}

// Track is one uploaded file (MP3, WAV or FLAC), checked and measured at
// ingest.
type Track struct {
	ID         int64
	StationID  int64
	Title      string
	Artist     string
	Album      string
	Duration   time.Duration
	Bitrate    int // bit/s, average over the file
	SampleRate int // Hz
	Channels   int
	// Filename is the uploader's file name, for display only.
	Filename string
	// Path is the server-made file name under the media directory.
	Path string
	// Size is the file size in bytes.
	Size int64
	// Position orders the station's playlist, from 0.
	Position int
	// Format is the file's container and codec: FormatMP3, FormatWAV or
	// FormatFLAC.
	Format string
	// Kind is music or jingle.
	Kind TrackKind
	// Analysis is nil until the track's sound was measured.
	Analysis *Analysis
	// ArtMIME is the image type of the cover art taken from the tags
	// (stored beside the file as Path + ".art"); empty when there is none.
	ArtMIME   string
	CreatedAt time.Time
}

// OneLine replaces control characters with spaces, so user text (a station
// name in an HTTP header or a playlist file) cannot start a new line.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// DisplayTitle is "Artist - Title" as ICY players show it, or just the title
// when there is no artist.
func DisplayTitle(artist, title string) string {
	switch {
	case artist == "":
		return title
	case title == "":
		return artist
	default:
		return artist + " - " + title
	}
}

// SessionCookie is the cookie holding a browser's session token: set by
// the REST login, read by the REST API and the WebSocket.
const SessionCookie = "onair_session"

// TimeLayout is how times travel in JSON, REST and WebSocket alike:
// RFC 3339 with milliseconds, always in UTC.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"
