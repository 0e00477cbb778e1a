package main

import (
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/client"
	"github.com/onairfm/onair/internal/testutil"
)

// TestWHIPDelay measures mouth to ear on loopback: a pion WHIP publisher
// sends silence with a 100 ms 1 kHz burst every second, and a pion WebRTC
// listener of the station finds each burst's onset in what it decodes.
// The delay is from the burst's first frame being handed to the
// publisher's track to the onset's place in the listener's packets (a
// browser adds its jitter buffer on top). It asserts nothing about time:
// it reports. ONAIR_MEASURE=N measures N bursts instead of 5.
func TestWHIPDelay(t *testing.T) {
	bursts := 5
	if n, err := strconv.Atoi(os.Getenv("ONAIR_MEASURE")); err == nil && n > 0 {
		bursts = min(n, 200)
	}
	s := startServer(t, "")
	tok := s.owner("deejay")
	slug, _ := s.liveStation(tok, "Delay FM", "tone440.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(bursts)*time.Second+60*time.Second)
	defer cancel()

	sock := s.dial(t, "")
	sock.Send("stream:join", map[string]string{"station": slug})
	l := listenRTC(t, sock, slug, true)
	p, err := client.PublishWHIP(ctx, s.URL+"/api/stations/"+slug+"/whip", bearer(tok), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	const (
		period   = 50 // frames between bursts: 1 s
		length   = 5  // frames of tone: 100 ms
		lead     = 3  // seconds of silence first, for the takeover fade
		amp      = 0.5
		freq     = 1000.0
		detectAt = 0.1
	)
	var mu sync.Mutex
	var sent []time.Time // when each burst's first frame was written
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- p.Stream(sctx, func(i int, pcm []float32) {
			k := i - lead*50
			on := k >= 0 && k%period < length && k/period < bursts
			for n := range pcm {
				pcm[n] = 0
				if on {
					pcm[n] = float32(amp * math.Sin(2*math.Pi*freq*float64(n)/48000))
				}
			}
			if on && k%period == 0 {
				mu.Lock()
				sent = append(sent, time.Now())
				mu.Unlock()
			}
		})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	// A burst may be lost on a loaded machine (the station clock skips
	// ahead when it falls behind, and what it skips is not heard): it is
	// counted as missed, and an onset a period or more after the burst is
	// the next burst's, so it is missed too.
	var delays []time.Duration
	missed := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for b := 0; b < bursts; b++ {
		testutil.Eventually(t, 10*time.Second, "burst "+strconv.Itoa(b), func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(sent) > b
		})
		mu.Lock()
		at := sent[b]
		mu.Unlock()
		giveUp := time.NewTimer(5 * time.Second)
	wait:
		for {
			heard, ok := l.Onset(at, detectAt)
			switch {
			case ok && heard.Sub(at) < period*20*time.Millisecond:
				delays = append(delays, heard.Sub(at))
				break wait
			case ok:
				missed++
				break wait
			}
			select {
			case <-giveUp.C:
				missed++
				break wait
			case <-tick.C:
			}
		}
		giveUp.Stop()
	}
	if len(delays) == 0 {
		t.Fatalf("none of %d bursts was heard", bursts)
	}
	t.Logf("delays in order: %v", delays)
	slices.Sort(delays)
	pct := func(q float64) time.Duration { return delays[int(math.Ceil(q*float64(len(delays))))-1] }
	t.Logf("WHIP → WebRTC listener, %d bursts heard (%d missed): min %v, p50 %v, p95 %v, max %v",
		len(delays), missed, delays[0].Round(time.Millisecond), pct(0.5).Round(time.Millisecond), pct(0.95).Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond))
}
