package relay

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

// fakeWebRTC is the WebRTC side as the relay sees it: it makes fakeTracks
// and keeps them, or fails with err.
type fakeWebRTC struct {
	err error

	mu     sync.Mutex
	tracks []*fakeTrack
}

func (f *fakeWebRTC) NewTrack(slug string, st WebRTCStation) (WebRTCTrack, error) {
	if f.err != nil {
		return nil, f.err
	}
	t := &fakeTrack{slug: slug, st: st}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tracks = append(f.tracks, t)
	return t, nil
}

func (f *fakeWebRTC) track(i int) *fakeTrack {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tracks[i]
}

// fakeTrack counts what a station writes to it. bind and unbind play its
// peers, as package rtc's Track does.
type fakeTrack struct {
	slug    string
	st      WebRTCStation
	bound   atomic.Int32
	packets atomic.Int64
	closes  atomic.Int32
}

func (t *fakeTrack) Write(pkt []byte, dur time.Duration) {
	if len(pkt) > 0 && dur > 0 {
		t.packets.Add(1)
	}
}
func (t *fakeTrack) Active() bool { return t.bound.Load() > 0 }
func (t *fakeTrack) Close()       { t.closes.Add(1) }

func (t *fakeTrack) bind() {
	t.bound.Add(1)
	t.st.PeerBound()
}
func (t *fakeTrack) unbind() { t.bound.Add(-1) }

// lastWebRTCCount is the WebRTC count of the last listeners event.
func lastWebRTCCount(rec *recorder) int {
	n := -1
	for _, ev := range rec.all() {
		if ev.Kind == onair.EventListeners {
			n = ev.Listeners.WebRTC
		}
	}
	return n
}

func TestWebRTCTrackIsFedOnlyWhileAPeerIsBound(t *testing.T) {
	rec := &recorder{}
	rtc := &fakeWebRTC{}
	r := &Relay{Publisher: rec, WebRTC: rtc}
	liveRelay(t, r, "tone440.mp3")
	tr := rtc.track(0)
	if tr.slug != "test" {
		t.Fatalf("track made for %q", tr.slug)
	}
	s := r.get("test")
	encoding := func() bool {
		var on bool
		if err := s.do(func() bool { on = s.rtcOn; return true }); err != nil {
			t.Fatal(err)
		}
		return on
	}
	if encoding() || tr.packets.Load() != 0 {
		t.Fatal("the Opus path runs with no peer bound")
	}
	tr.bind()
	testutil.Eventually(t, 10*time.Second, "Opus packets for the bound peer", func() bool { return tr.packets.Load() >= 10 })
	tr.unbind()
	testutil.Eventually(t, 10*time.Second, "the Opus path to stop", func() bool { return !encoding() })

	// Counts: only peers whose connection is up are listeners.
	tr.st.PeerConnected()
	tr.st.PeerConnected()
	if got := r.Status("test").Listeners.WebRTC; got != 2 || lastWebRTCCount(rec) != 2 {
		t.Fatalf("%d WebRTC listeners, last event %d; want 2", got, lastWebRTCCount(rec))
	}
	tr.st.PeerGone()
	if got := r.Status("test").Listeners.WebRTC; got != 1 || lastWebRTCCount(rec) != 1 {
		t.Fatalf("%d WebRTC listeners, last event %d; want 1", got, lastWebRTCCount(rec))
	}

	if err := r.Stop("test"); err != nil {
		t.Fatal(err)
	}
	if n := tr.closes.Load(); n != 1 {
		t.Fatalf("stopping the station closed its track %d times, want 1", n)
	}
}

func TestRelayCloseClosesEveryTrack(t *testing.T) {
	rtc := &fakeWebRTC{}
	dir, tracks := mediaDir(t, "tone440.mp3")
	r := &Relay{MediaDir: dir, WebRTC: rtc}
	for _, slug := range []string{"a", "b"} {
		if err := r.Start(StationInfo{Slug: slug}, tracks, PlayOptions{Loop: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if n := rtc.track(i).closes.Load(); n != 1 {
			t.Fatalf("track %d closed %d times, want 1", i, n)
		}
	}
}

func TestWebRTCTrackErrorFailsStart(t *testing.T) {
	bad := errors.New("udp port in use")
	dir, tracks := mediaDir(t, "tone440.mp3")
	r := &Relay{MediaDir: dir, WebRTC: &fakeWebRTC{err: bad}}
	defer r.Close()
	if err := r.Start(StationInfo{Slug: "s"}, tracks, PlayOptions{}); !errors.Is(err, bad) {
		t.Fatalf("Start: %v, want the track's error", err)
	}
	if r.Status("s").Live {
		t.Fatal("the station went live without its WebRTC track")
	}
}
