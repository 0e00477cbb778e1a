package relay

import "time"

// clock is a station's playout clock: it turns wall time into stream time
// and says whether the next piece of audio is due.
//
// Stream time is counted in samples per track, not by adding up rounded
// frame durations, so a station that plays for weeks does not drift from
// the wall clock: 1152/44100 s is not a whole number of nanoseconds. Every
// decision is made from the clock's start, never by sleeping a frame's
// length, so a late tick is caught up at the next one.
type clock struct {
	start time.Time // wall time of stream time zero

	base       time.Duration // stream time at which the current run of samples began
	rate       int           // samples per second of the current run
	samples    int64         // samples released in the current run
	maxCatchUp time.Duration // lag beyond which the clock jumps instead of bursting
}

// newClock starts a clock at now. When the clock falls more than maxCatchUp
// behind (the process was stopped, the machine suspended), it skips ahead
// instead of releasing the whole gap at once.
func newClock(now time.Time, maxCatchUp time.Duration) *clock {
	return &clock{start: now, maxCatchUp: maxCatchUp}
}

// pos is the stream time released so far.
func (c *clock) pos() time.Duration {
	if c.rate == 0 {
		return c.base
	}
	return c.base + time.Duration(c.samples*int64(time.Second)/int64(c.rate))
}

// due reports whether audio starting at the current position should be
// released at wall time now.
func (c *clock) due(now time.Time) bool {
	return c.pos() <= now.Sub(c.start)
}

// advance records that samples more samples at rate were released.
func (c *clock) advance(samples, rate int) {
	if rate != c.rate {
		c.base = c.pos()
		c.rate = rate
		c.samples = 0
	}
	c.samples += int64(samples)
}

// wall is the wall time at which stream time d is played.
func (c *clock) wall(d time.Duration) time.Time { return c.start.Add(d) }

// catchUp moves the clock's start forward when it lags too far behind now,
// and reports by how much.
func (c *clock) catchUp(now time.Time) time.Duration {
	lag := now.Sub(c.start) - c.pos()
	if c.maxCatchUp <= 0 || lag <= c.maxCatchUp {
		return 0
	}
	c.start = c.start.Add(lag)
	return lag
}
