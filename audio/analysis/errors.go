package analysis

import "errors"

// ErrSilent is returned by Result for a track with no audible sound: all of
// it below the cue threshold, or no 400 ms block above the -70 LUFS gate.
var ErrSilent = errors.New("analysis: the track is silent")

// ErrFormat is returned by Result when the analyzer was made for a rate or
// channel count it cannot measure.
var ErrFormat = errors.New("analysis: unsupported rate or channel count")
