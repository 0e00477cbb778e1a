package relay

import (
	"time"

	"github.com/onairfm/onair/ingest/mp3"
)

// opusPath is a station's way to its WebRTC listeners: released MP3 frames
// → 48 kHz PCM → Opus → the shared track. Decoding and encoding cost more
// than everything else a station does, so the path only runs while a peer
// is bound to the track: a live station nobody hears over WebRTC decodes
// nothing.
type opusPath struct {
	track  *stationTrack
	pcm    pcmDecoder
	enc    *opusEncoder
	on     bool
	recent frameHistory
}

// frame takes one released frame that starts at stream time at.
func (o *opusPath) frame(f mp3.Frame, at time.Duration) error {
	o.recent.push(f.Data)
	if !o.track.active() {
		o.on = false
		return nil
	}
	if !o.on {
		o.start(f, at)
	}
	return o.pcm.decode(f.Data, f.Samples, f.SampleRate)
}

// start begins decoding in the middle of a track. An MP3 frame may use bits
// from the frames before it (the bit reservoir), so the decoder is first
// fed the last few frames, whose sound is thrown away.
func (o *opusPath) start(f mp3.Frame, at time.Duration) {
	o.on = true
	o.pcm.newTrack()
	for _, prev := range o.recent.before() {
		_ = o.pcm.decode(prev, f.Samples, f.SampleRate) // a frame cut off from its reservoir may fail
	}
	o.pcm.out = o.pcm.out[:0]
	o.enc.pos = at
}

// newTrack starts a new track's decoder; the resampler and the encoder run
// on, so the sound has no gap.
func (o *opusPath) newTrack() {
	o.pcm.newTrack()
	o.recent.reset()
}

// send encodes and sends every packet whose audio has played by elapsed.
func (o *opusPath) send(elapsed time.Duration) error {
	if !o.on {
		return nil
	}
	need := o.enc.samples * 2
	var err error
	for len(o.pcm.out) >= need && o.enc.pos+o.enc.dur <= elapsed {
		pkt, encErr := o.enc.encode(o.pcm.out[:need])
		o.pcm.consume(need)
		if encErr != nil {
			err = encErr
			continue
		}
		o.track.write(pkt, o.enc.dur)
	}
	// After a clock jump, drop what can no longer be sent in time.
	if elapsed-o.enc.pos > time.Second {
		o.enc.pos = elapsed
		o.pcm.consume(len(o.pcm.out))
	}
	return err
}

// frameHistory keeps copies of the last few frames of the current track in
// buffers it reuses.
type frameHistory struct {
	bufs [4][]byte
	n    int // frames held, up to len(bufs)
	next int // where the next frame goes
}

// maxFrame is the largest MPEG-1 Layer III frame: 320 kbit/s at 32 kHz.
const maxFrame = 1441

func (h *frameHistory) push(frame []byte) {
	if h.bufs[h.next] == nil {
		h.bufs[h.next] = make([]byte, 0, maxFrame)
	}
	h.bufs[h.next] = append(h.bufs[h.next][:0], frame...)
	h.next = (h.next + 1) % len(h.bufs)
	h.n = min(h.n+1, len(h.bufs))
}

// before returns the frames held before the newest one, oldest first.
func (h *frameHistory) before() [][]byte {
	var out [][]byte
	for i := h.n - 1; i >= 1; i-- {
		out = append(out, h.bufs[(h.next-1-i+2*len(h.bufs))%len(h.bufs)])
	}
	return out
}

func (h *frameHistory) reset() { h.n = 0 }
