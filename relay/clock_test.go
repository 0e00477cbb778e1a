package relay

import (
	"testing"
	"time"
)

func TestClockPacing(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name    string
		frames  int
		samples int
		rate    int
		want    time.Duration
	}{
		{"mpeg1 44.1k", 1000, 1152, 44100, 26122448979},                 // 1000*1152/44100 s, exact to the ns
		{"mpeg1 48k", 1000, 1152, 48000, 24 * time.Second},              // no rounding at all
		{"mpeg2 22.05k", 1000, 576, 22050, 26122448979},                 // same duration as 44.1k/1152
		{"one day at 44.1k", 3307500, 1152, 44100, 86400 * time.Second}, // no drift over a day
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock(t0, 0)
			for range tt.frames {
				c.advance(tt.samples, tt.rate)
			}
			if got := c.pos(); got != tt.want {
				t.Fatalf("pos = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClockRateChangeKeepsPosition(t *testing.T) {
	c := newClock(time.Unix(0, 0), 0)
	c.advance(44100, 44100) // 1 s
	c.advance(48000, 48000) // 1 s
	c.advance(22050, 44100) // 0.5 s
	if got := c.pos(); got != 2500*time.Millisecond {
		t.Fatalf("pos = %v, want 2.5s", got)
	}
}

func TestClockDue(t *testing.T) {
	t0 := time.Unix(0, 0)
	c := newClock(t0, 0)
	if !c.due(t0) {
		t.Fatal("first frame is not due at start")
	}
	c.advance(1152, 48000) // 24 ms
	if c.due(t0.Add(23 * time.Millisecond)) {
		t.Fatal("second frame due before its time")
	}
	if !c.due(t0.Add(24 * time.Millisecond)) {
		t.Fatal("second frame not due at its time")
	}
	if got := c.wall(c.pos()); !got.Equal(t0.Add(24 * time.Millisecond)) {
		t.Fatalf("wall = %v", got)
	}
}

func TestClockCatchUp(t *testing.T) {
	t0 := time.Unix(0, 0)
	c := newClock(t0, 2*time.Second)
	c.advance(48000, 48000)
	if lag := c.catchUp(t0.Add(2 * time.Second)); lag != 0 {
		t.Fatalf("caught up %v within the allowance", lag)
	}
	lag := c.catchUp(t0.Add(10 * time.Second))
	if lag != 9*time.Second {
		t.Fatalf("lag = %v, want 9s", lag)
	}
	if c.due(t0.Add(10*time.Second - time.Millisecond)) {
		t.Fatal("after catching up, the next frame is already overdue")
	}
	if !c.due(t0.Add(10 * time.Second)) {
		t.Fatal("after catching up, the next frame is not due now")
	}
}
