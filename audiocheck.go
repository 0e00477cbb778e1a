package onair

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MP3Bitrates are the bitrates an MPEG-1 Layer III stream can have, bit/s:
// the frame header has a field for exactly these (ISO/IEC 11172-3).
var MP3Bitrates = []int{32000, 40000, 48000, 56000, 64000, 80000, 96000, 112000,
	128000, 160000, 192000, 224000, 256000, 320000}

// The bounds of a station's audio settings.
const (
	MaxCrossfade      = 10 * time.Second // longer overlaps swallow short tracks
	MinLoudnessTarget = -30.0            // LUFS; quieter is inaudible next to other stations
	MaxLoudnessTarget = -5.0             // LUFS; louder cannot stay under the -1 dBTP ceiling
	MaxJingleEvery    = 100
)

// Problems lists what is wrong with a, one "name must ..., got ..." each,
// named as the JSON and config keys name them; nil when a is valid.
func (a AudioSettings) Problems() []string {
	var p []string
	if a.SampleRate != 44100 && a.SampleRate != 48000 {
		p = append(p, fmt.Sprintf("sample_rate must be 44100 or 48000, got %d", a.SampleRate))
	}
	if !slices.Contains(MP3Bitrates, a.MP3Bitrate) {
		p = append(p, fmt.Sprintf("mp3_bitrate must be an MP3 bitrate from 32000 to 320000 (32k, 40k, 48k, 56k, 64k, 80k, 96k, 112k, 128k, 160k, 192k, 224k, 256k or 320k), got %d", a.MP3Bitrate))
	}
	if a.Crossfade < 0 || a.Crossfade > MaxCrossfade {
		p = append(p, fmt.Sprintf("crossfade_ms must be between 0 and %d, got %d", MaxCrossfade.Milliseconds(), a.Crossfade.Milliseconds()))
	}
	if t := a.LoudnessTarget; math.IsNaN(t) || t < MinLoudnessTarget || t > MaxLoudnessTarget {
		p = append(p, fmt.Sprintf("loudness target must be between %g and %g LUFS, got %g", MinLoudnessTarget, MaxLoudnessTarget, t))
	}
	if a.JingleEvery < 0 || a.JingleEvery > MaxJingleEvery {
		p = append(p, fmt.Sprintf("jingle_every must be between 0 and %d, got %d", MaxJingleEvery, a.JingleEvery))
	}
	return p
}

// Check returns an EInvalid error naming every problem of a, or nil.
func (a AudioSettings) Check() error {
	if p := a.Problems(); len(p) > 0 {
		return Errorf(EInvalid, "audio: %s", strings.Join(p, "; "))
	}
	return nil
}

// ArtPath is where a track's cover art is served, as track JSON,
// now_playing and stream:metadata name it.
func ArtPath(slug string, trackID int64) string {
	return "/api/stations/" + slug + "/tracks/" + strconv.FormatInt(trackID, 10) + "/art"
}
