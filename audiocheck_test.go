package onair

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestAudioSettingsCheck(t *testing.T) {
	ok := AudioSettings{SampleRate: 44100, MP3Bitrate: 128000, Crossfade: 2 * time.Second, LoudnessEnabled: true, LoudnessTarget: -16}
	for _, tc := range []struct {
		name string
		edit func(*AudioSettings)
		want string // "" = valid
	}{
		{"defaults", func(*AudioSettings) {}, ""},
		{"48k 320k cut", func(a *AudioSettings) { a.SampleRate, a.MP3Bitrate, a.Crossfade = 48000, 320000, 0 }, ""},
		{"edges", func(a *AudioSettings) { a.Crossfade, a.LoudnessTarget, a.JingleEvery = 10*time.Second, -30, 100 }, ""},
		{"rate", func(a *AudioSettings) { a.SampleRate = 22050 }, "sample_rate"},
		{"bitrate not MP3", func(a *AudioSettings) { a.MP3Bitrate = 100000 }, "mp3_bitrate"},
		{"bitrate too high", func(a *AudioSettings) { a.MP3Bitrate = 384000 }, "mp3_bitrate"},
		{"crossfade", func(a *AudioSettings) { a.Crossfade = 10001 * time.Millisecond }, "crossfade_ms"},
		{"negative crossfade", func(a *AudioSettings) { a.Crossfade = -time.Millisecond }, "crossfade_ms"},
		{"too loud", func(a *AudioSettings) { a.LoudnessTarget = -4 }, "loudness"},
		{"NaN", func(a *AudioSettings) { a.LoudnessTarget = math.NaN() }, "loudness"},
		{"jingles", func(a *AudioSettings) { a.JingleEvery = 101 }, "jingle_every"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ok
			tc.edit(&a)
			err := a.Check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid settings refused: %v", err)
			case tc.want != "" && (ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want EInvalid about %s", err, tc.want)
			}
		})
	}
}
