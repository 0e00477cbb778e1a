package resample

import "errors"

// Sentinel errors, wrapped with the rates involved by New and SetInputRate.
var (
	// ErrRate is returned for a sample rate outside 1..MaxRate.
	ErrRate = errors.New("resample: invalid sample rate")
	// ErrChannels is returned for a channel count other than 1 or 2.
	ErrChannels = errors.New("resample: channels must be 1 or 2")
	// ErrRatio is returned when the reduced ratio L/M needs more than MaxPhases
	// phases (the table would be large and almost never shared) or downsamples
	// by more than 2:1 (32 taps can no longer keep a useful passband).
	ErrRatio = errors.New("resample: unsupported rate ratio")
)
