package onair

import "time"

// Streamer is an account that may broadcast live on one station with a
// source client (butt, Mixxx, ffmpeg, Liquidsoap) or over WHIP. Its name is
// unique within its station only, as Icecast's per-mount credentials are:
// many clients send the user "source" unless told otherwise.
type Streamer struct {
	ID          int64     `json:"-"`
	StationID   int64     `json:"-"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
}

// Name is what listeners see while the streamer is on air.
func (s *Streamer) Name() string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return s.Username
}
