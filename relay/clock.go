package relay

import "time"

// clock is a station's playout clock: it turns wall time into stream time,
// counted in frames of the station's mix.
//
// Stream time is a frame count, never a sum of rounded durations, so a
// station that plays for weeks does not drift from the wall clock: 1152/44100
// s is not a whole number of nanoseconds. Every decision is made from the
// clock's start, never by sleeping a block's length, so a late tick is
// caught up at the next one.
type clock struct {
	start      time.Time // wall time of frame zero
	rate       int       // frames per second
	maxCatchUp time.Duration
}

// newClock starts a clock at now. When the clock falls more than maxCatchUp
// behind (the process was stopped, the machine suspended), it skips ahead
// instead of releasing the whole gap at once.
func newClock(now time.Time, rate int, maxCatchUp time.Duration) *clock {
	return &clock{start: now, rate: rate, maxCatchUp: maxCatchUp}
}

// due is the number of frames that have played by wall time now.
func (c *clock) due(now time.Time) int64 {
	d := now.Sub(c.start)
	if d <= 0 {
		return 0
	}
	return c.frames(d)
}

// dur is the stream time of frame f.
// Whole seconds and the rest are converted apart, so that months of
// frames or nanoseconds never overflow an int64.
func (c *clock) dur(f int64) time.Duration {
	r := int64(c.rate)
	return time.Duration(f/r)*time.Second + time.Duration(f%r*int64(time.Second)/r)
}

// frames is how many frames d lasts.
func (c *clock) frames(d time.Duration) int64 {
	r := int64(c.rate)
	return int64(d/time.Second)*r + int64(d%time.Second)*r/int64(time.Second)
}

// wall is the wall time at which frame f plays.
func (c *clock) wall(f int64) time.Time { return c.start.Add(c.dur(f)) }

// catchUp moves the clock's start forward when the frames released so far
// lag too far behind now, and reports by how much.
func (c *clock) catchUp(now time.Time, pos int64) time.Duration {
	lag := now.Sub(c.start) - c.dur(pos)
	if c.maxCatchUp <= 0 || lag <= c.maxCatchUp {
		return 0
	}
	c.start = c.start.Add(lag)
	return lag
}
