package relay

import (
	"testing"
	"time"
)

func TestClockCountsFramesWithoutDrift(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := newClock(t0, 44100, 2*time.Second)
	// A week of wall time is exactly a week of frames.
	week := 7 * 24 * time.Hour
	if got, want := c.due(t0.Add(week)), int64(44100*week.Seconds()); got != want {
		t.Fatalf("due after a week = %d, want %d", got, want)
	}
	if got := c.due(t0.Add(-time.Second)); got != 0 {
		t.Fatalf("due before start = %d", got)
	}
	if got := c.wall(44100); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("wall(44100) = %v", got)
	}
	if got := c.frames(500 * time.Millisecond); got != 22050 {
		t.Fatalf("frames(500ms) = %d", got)
	}
}

func TestClockCatchUp(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := newClock(t0, 48000, 2*time.Second)
	if lag := c.catchUp(t0.Add(time.Second), 0); lag != 0 {
		t.Fatalf("a 1 s lag is caught up by playing, got a jump of %v", lag)
	}
	lag := c.catchUp(t0.Add(10*time.Second), 48000)
	if lag != 9*time.Second {
		t.Fatalf("jump = %v, want 9s", lag)
	}
	if got := c.due(t0.Add(10 * time.Second)); got != 48000 {
		t.Fatalf("after the jump, due = %d, want the frames already released", got)
	}
}
