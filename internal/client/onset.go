package client

import (
	"math"
	"time"
)

// Onset finds the first decoded sample louder than threshold (absolute,
// full scale 1) in the packets that arrived after after, and returns when
// a player that starts each packet as it arrives would sound it: the
// packet's arrival plus the sample's place in it. For delay measurements
// with a marker tone over silence.
func (l *Listener) Onset(after time.Time, threshold float64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, at := range l.arrival {
		if at.Before(after) {
			continue
		}
		end := len(l.pcm)
		if i+1 < len(l.offsets) {
			end = l.offsets[i+1]
		}
		for j := l.offsets[i]; j < end; j++ {
			if math.Abs(l.pcm[j]) > threshold {
				return at.Add(time.Duration(j-l.offsets[i]) * time.Second / 48000), true
			}
		}
	}
	return time.Time{}, false
}
