package relay

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/audiotest"
)

func scanFrames(t *testing.T, name string) []mp3.Frame {
	t.Helper()
	sc := mp3.NewScanner(bytes.NewReader(audiotest.Fixture(t, name)))
	var out []mp3.Frame
	for {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Data = bytes.Clone(f.Data)
		out = append(out, f)
	}
}

func TestOpusPathRunsOnlyWithPeersAndStartsMidTrack(t *testing.T) {
	enc, err := newOpusEncoder(OpusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	o := &opusPath{track: &stationTrack{peers: map[*Peer]*shard{}}, enc: enc}
	frames := scanFrames(t, "tone880.mp3")
	dur := frames[0].Duration()

	// Nobody listens: nothing is decoded.
	for i, f := range frames[:100] {
		if err := o.frame(f, time.Duration(i)*dur); err != nil {
			t.Fatal(err)
		}
	}
	if o.on || o.pcm.dec != nil || len(o.pcm.out) != 0 {
		t.Fatal("the Opus path decoded with no peer bound")
	}

	// A peer arrives mid-track: the primed decoder decodes every frame from
	// the first one on.
	o.track.bound.Store(1)
	for i, f := range frames[100:150] {
		if err := o.frame(f, time.Duration(100+i)*dur); err != nil {
			t.Fatalf("frame %d after the start: %v", i, err)
		}
	}
	if !o.on || o.enc.pos != 100*dur {
		t.Fatalf("on %v, encoder at %v, want %v", o.on, o.enc.pos, 100*dur)
	}
	want := 50 * 1152 * 48000 / 44100
	if got := len(o.pcm.out) / 2; got < want-64 || got > want+64 {
		t.Fatalf("%d samples decoded for 50 frames, want about %d", got, want)
	}
	// The first frames sound as they do when the track is decoded from its
	// start: without priming they miss their bit reservoir and click (a
	// difference of up to 1.4 full scale was measured).
	var ref pcmDecoder
	for _, f := range frames[:150] {
		if err := ref.decode(f.Data, f.Samples, f.SampleRate); err != nil {
			t.Fatal(err)
		}
	}
	refStart := len(ref.out) - len(o.pcm.out)
	var worst float64
	for i := range 3 * 1152 * 2 {
		worst = max(worst, math.Abs(float64(o.pcm.out[i]-ref.out[refStart+i])))
	}
	if worst > 0.05 {
		t.Fatalf("the first frames after starting mid-track differ from the track's sound by %.3f", worst)
	}
	samples := make([]float64, len(o.pcm.out)/2)
	for i := range samples {
		samples[i] = float64(o.pcm.out[2*i])
	}
	if f, share := audiotest.Dominant(samples[2000:], 48000, 440, 880); f != 880 || share < 0.9 {
		t.Fatalf("decoded %v Hz (%.2f)", f, share)
	}

	// The peer leaves: decoding stops at the next frame.
	o.track.bound.Store(0)
	o.frame(frames[150], 150*dur)
	if o.on {
		t.Fatal("still decoding after the last peer left")
	}
}

func TestFrameHistory(t *testing.T) {
	var h frameHistory
	if len(h.before()) != 0 {
		t.Fatal("empty history has frames")
	}
	for i := range 6 {
		h.push([]byte{byte(i)})
	}
	got := h.before()
	if len(got) != 3 || got[0][0] != 2 || got[1][0] != 3 || got[2][0] != 4 {
		t.Fatalf("before() = %v, want [2 3 4] (oldest first, without the newest)", got)
	}
	h.reset()
	h.push([]byte{9})
	if len(h.before()) != 0 {
		t.Fatal("history survived a reset")
	}
}
