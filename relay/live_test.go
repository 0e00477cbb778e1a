package relay

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/onairfm/onair"
)

// produce writes a sine of freq Hz at 48 kHz stereo into f in real time,
// 20 ms at a time, until ctx ends.
func produce(ctx context.Context, f *Feed, freq float64) {
	const rate = 48000
	block := make([]float32, rate/50*2)
	var n int
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for i := 0; i < len(block); i += 2 {
			v := float32(0.3 * math.Sin(2*math.Pi*freq*float64(n)/rate))
			block[i], block[i+1] = v, v
			n++
		}
		f.Write(block)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func eventsOf(rec *recorder, kind onair.EventKind) []onair.Event {
	var out []onair.Event
	for _, ev := range rec.all() {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func TestLiveSourceTakesTheAirAndGivesItBack(t *testing.T) {
	rec := &recorder{}
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second, Publisher: rec}
	srv := liveRelay(t, r, "tone440.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := listen(t, ctx, srv.URL+"/stream/test")
	c.ReadUntil("playlist audio", func() bool { return len(c.Audio) >= 2*16000 })

	feed, err := r.GoLive("test", onair.LiveSource{Kind: onair.LiveIcecast, Streamer: "DJ Test"}, 48000, 2)
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	go produce(pctx, feed, 1000)
	if _, err := r.GoLive("test", onair.LiveSource{Kind: onair.LiveIcecast, Streamer: "Other"}, 48000, 2); !errors.Is(err, ErrSourceBusy) {
		t.Fatalf("a second source: %v, want ErrSourceBusy", err)
	}
	if st := r.Status("test"); st.Source == nil || st.Source.Streamer != "DJ Test" || st.NowPlaying.Source != onair.SourceLive {
		t.Fatalf("status while live: %+v", st)
	}
	c.ReadUntil("the streamer's title", func() bool { _, ok := c.TitleAt("DJ Test", 0); return ok })
	at, _ := c.TitleAt("DJ Test", 0)
	c.ReadUntil("2 s of live audio", func() bool { return int64(len(c.Audio)) >= at+2*16000 })
	// Within a second of the title, the source's tone has the air.
	if f := tone(t, c.Audio[at+16000:at+2*16000]); f != 1000 {
		t.Fatalf("live: heard %v Hz, want the source's 1000", f)
	}

	// Updinfo-style title while live.
	if err := feed.SetTitle("Artist", "Live Song"); err != nil {
		t.Fatal(err)
	}
	c.ReadUntil("the live title", func() bool { _, ok := c.TitleAt("Artist - Live Song", 0); return ok })

	stop()
	feed.Close()
	c.ReadUntil("the playlist's title again", func() bool { _, ok := c.TitleAt("Test Artist - Tone 440", 0); return ok && len(c.Metas()) > 3 })
	back := int64(len(c.Audio))
	c.ReadUntil("2 s of playlist audio", func() bool { return int64(len(c.Audio)) >= back+2*16000 })
	if f := tone(t, c.Audio[back+16000:]); f != 440 {
		t.Fatalf("after the source left: heard %v Hz, want the playlist's 440", f)
	}
	srcEvents := eventsOf(rec, onair.EventSource)
	if len(srcEvents) != 2 || srcEvents[0].Source == nil || srcEvents[1].Source != nil {
		t.Fatalf("source events %+v", srcEvents)
	}
	if r.Status("test").Source != nil {
		t.Fatal("status still shows the source")
	}
	select {
	case <-feed.Done():
	default:
		t.Fatal("the feed's Done is open after Close")
	}
}

func TestStalledSourceGivesTheAirBack(t *testing.T) {
	rec := &recorder{}
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second, Publisher: rec}
	liveRelay(t, r, "tone440.mp3")
	feed, err := r.GoLive("test", onair.LiveSource{Kind: onair.LiveWHIP, Streamer: "Quiet"}, 44100, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	feed.Write(make([]float32, 44100/2))
	// Nothing more comes: within the stall time and a bit, the playlist
	// is back and the feed is told.
	select {
	case <-feed.Done():
	case <-time.After(liveStall + 5*time.Second):
		t.Fatal("a stalled source kept the air")
	}
	if st := r.Status("test"); st.Source != nil || st.NowPlaying.Source != onair.SourcePlaylist {
		t.Fatalf("after the stall: %+v", st)
	}
	if _, err := r.GoLive("nope", onair.LiveSource{}, 44100, 2); !errors.Is(err, ErrNotLive) {
		t.Fatalf("live on a station off air: %v", err)
	}
	if _, err := r.GoLive("test", onair.LiveSource{}, 44100, 6); !errors.Is(err, ErrLiveFormat) {
		t.Fatalf("six channels: %v", err)
	}
}

func TestFeedKeepsItsDelayNearThePrebuffer(t *testing.T) {
	now := time.Unix(1000, 0)
	r := &Relay{Now: func() time.Time { return now }}
	s := &station{r: r}
	f := &Feed{s: s, rate: 1000, ch: 1}
	pre := f.frames(livePrebuffer)
	// A burst of 800 ms arrives at once: the delay is 800 ms...
	f.Write(make([]float32, 800))
	dst := make([]float32, 20)
	read := func() {
		if _, err := f.Read(dst); err != nil {
			t.Fatal(err)
		}
		now = now.Add(20 * time.Millisecond)
		f.Write(make([]float32, 20)) // ...and the source keeps pace after it
	}
	read()
	if len(f.buf) < 700 {
		t.Fatalf("held %d frames right after the burst", len(f.buf))
	}
	// ...until it has lasted liveTrimAfter: then back to the prebuffer.
	for range int(liveTrimAfter/(20*time.Millisecond)) + 2 {
		read()
	}
	if got := len(f.buf); got > 2*pre {
		t.Fatalf("still %d frames held after %v, want about the prebuffer (%d)", got, liveTrimAfter, pre)
	}
	// A source that sends a second at a time (ffmpeg's Ogg pages) empties
	// its feed between pages: nothing of it is dropped.
	f.buf = f.buf[:0]
	f.window = time.Time{}
	dropped := f.dropped
	for range 5 {
		f.Write(make([]float32, 1000))
		for range 50 {
			if _, err := f.Read(dst); err != nil {
				t.Fatal(err)
			}
			now = now.Add(20 * time.Millisecond)
		}
	}
	if f.dropped != dropped {
		t.Fatalf("%d frames of a bursty source dropped", f.dropped-dropped)
	}

	// An underrun waits for a whole prebuffer again.
	f.buf = f.buf[:0]
	f.Read(dst)
	f.Write(make([]float32, pre/2))
	for i := range dst {
		dst[i] = 1
	}
	f.Read(dst)
	for _, x := range dst {
		if x != 0 {
			t.Fatal("audio played before the prebuffer refilled after an underrun")
		}
	}
}

func TestFeedPrebufferCoversABurstySource(t *testing.T) {
	now := time.Unix(1000, 0)
	r := &Relay{Now: func() time.Time { return now }}
	f := &Feed{s: &station{r: r}, rate: 1000, ch: 1, last: now}
	dst := make([]float32, 20)
	silent := 0
	// A page of a second every second, the way ffmpeg's Ogg muxer sends.
	for range 6 {
		f.Write(make([]float32, 1000))
		for range 50 {
			f.Read(dst)
			if !f.primed {
				silent++
			}
			now = now.Add(20 * time.Millisecond)
		}
	}
	if p := f.prebuffer(); p < 1000 {
		t.Fatalf("prebuffer %d frames for a source sending a second at a time", p)
	}
	// After it learnt the source, the feed waits once and then flows.
	if silent > 150 {
		t.Fatalf("%d of 300 reads silent: the feed keeps underrunning", silent)
	}
}
