package control

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/testutil"
)

func TestUploadQuota(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	used := e.tracks[0].Size + e.tracks[1].Size
	fixture := audiotest.Fixture(t, "tone440.mp3")

	// Room for exactly one more file.
	e.svc.QuotaBytes = used + int64(len(fixture)) + 10
	if _, err := e.svc.AddTrack(ctx, e.station, "third.mp3", bytes.NewReader(fixture)); err != nil {
		t.Fatalf("within quota: %v", err)
	}
	before, _ := os.ReadDir(e.media)
	_, err := e.svc.AddTrack(ctx, e.station, "fourth.mp3", bytes.NewReader(fixture))
	if onair.ErrorCode(err) != onair.ENoSpace {
		t.Fatalf("over quota: %v, want %s", err, onair.ENoSpace)
	}
	after, _ := os.ReadDir(e.media)
	if len(after) != len(before) {
		t.Fatalf("refused upload left files: %d before, %d after", len(before), len(after))
	}
	// Full: refused before a byte is read.
	e.svc.QuotaBytes = used
	if _, err := e.svc.CanUpload(ctx, e.owner, e.station.Slug); onair.ErrorCode(err) != onair.ENoSpace {
		t.Fatalf("CanUpload when full: %v", err)
	}
}

// TestQuotaUnderConcurrentUploads: uploads at once never store more than
// the quota between them.
func TestQuotaUnderConcurrentUploads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fixture := audiotest.Fixture(t, "tone440.mp3")
	used := e.tracks[0].Size + e.tracks[1].Size
	e.svc.QuotaBytes = used + 2*int64(len(fixture)) + 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 5 {
		wg.Go(func() {
			if _, err := e.svc.AddTrack(ctx, e.station, "x.mp3", bytes.NewReader(fixture)); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 2 {
		t.Fatalf("%d uploads accepted, want 2", ok)
	}
	if n := e.svc.live.held(); n != 0 {
		t.Fatalf("%d station locks left", n)
	}
}

func TestStationLocksArePerStation(t *testing.T) {
	var l stationLocks
	unlockA := l.lock("a")
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.lock("b")() // another station: not held up by a
	}()
	<-done
	unlockA()
	if n := l.held(); n != 0 {
		t.Fatalf("%d locks left", n)
	}
}

// TestRunDrainsOnShutdown: what the relay reported before shutdown is
// saved even when Run's context ends before it got to it.
func TestRunDrainsOnShutdown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Relay.Stop(e.station.Slug); err != nil {
		t.Fatal(err)
	}
	// The relay queues EventStopped from its station goroutine; nobody
	// runs the queue yet.
	testutil.Eventually(t, 10*time.Second, "the stop event queued", func() bool { return len(e.svc.queue()) > 0 })
	runCtx, cancel := context.WithCancel(ctx)
	cancel()
	e.svc.Run(runCtx)
	st, err := e.db.StationBySlug(ctx, e.station.Slug)
	if err != nil || st.Live {
		t.Fatalf("after shutdown: live=%v, %v; the stop was not saved", st != nil && st.Live, err)
	}
}
