package relay

import (
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/resample"
)

// title is what a station announces from some point of its mix on, made
// once per change and shared by every output.
type title struct {
	np    *onair.NowPlaying // never modified once made
	block []byte            // the ICY metadata block
}

func newTitle(np *onair.NowPlaying) *title {
	return &title{np: np, block: icyBlock(np)}
}

// encoder is one encoding of a station's mix: the MP3 mount, the Ogg/Opus
// mount or the WebRTC track. Its methods run on the station goroutine, in
// stream order: a title applies to the audio handed over after it.
type encoder interface {
	// begin starts encoding at stream frame at, after a stop or at first.
	begin(at int64)
	title(t *title)
	pcm(block []float32, at int64)
	// flush hands what was encoded since the last flush to listeners.
	flush()
	// end stops encoding; begin starts afresh.
	end()
}

// opusStage turns a station's mix into Opus packets: resampled to 48 kHz
// when the mix runs at another rate, then encoded. The Ogg mount and the
// WebRTC track each have their own, so each runs only while it has
// listeners.
type opusStage struct {
	res *resample.Resampler // nil when the mix is at 48 kHz
	enc *opusEncoder
	buf []float32 // 48 kHz stereo waiting for a whole packet
	tmp []float32
	// out48 counts the 48 kHz frames encoded since begin; at48 is the
	// stream position, in 48 kHz frames, that begin started at.
	out48, at48 int64
}

func newOpusStage(mixRate int, cfg OpusConfig) (*opusStage, error) {
	enc, err := newOpusEncoder(cfg)
	if err != nil {
		return nil, err
	}
	st := &opusStage{enc: enc}
	if mixRate != outRate {
		res, err := resample.New(mixRate, outRate, 2)
		if err != nil {
			return nil, err
		}
		st.res = res
	}
	return st, nil
}

// begin starts at stream frame at of a mix at mixRate.
func (o *opusStage) begin(at int64, mixRate int) {
	if o.res != nil {
		o.res.Reset()
	}
	o.buf = o.buf[:0]
	o.out48 = 0
	o.at48 = at * outRate / int64(mixRate)
}

// push encodes block and hands each packet to emit with the 48 kHz stream
// frame its audio starts at.
func (o *opusStage) push(block []float32, emit func(pkt []byte, at48 int64, dur time.Duration)) error {
	if o.res == nil {
		o.buf = append(o.buf, block...)
	} else {
		need := o.res.MaxOut(len(block)/2) * 2
		if cap(o.tmp) < need {
			o.tmp = make([]float32, need)
		}
		got := o.res.Process(block, o.tmp[:need])
		o.buf = append(o.buf, o.tmp[:got*2]...)
	}
	per := o.enc.samples * 2
	var err error
	off := 0
	for len(o.buf)-off >= per {
		pkt, encErr := o.enc.encode(o.buf[off : off+per])
		off += per
		at := o.at48 + o.out48
		o.out48 += int64(o.enc.samples)
		if encErr != nil {
			err = encErr
			continue
		}
		emit(pkt, at, o.enc.dur)
	}
	rest := copy(o.buf, o.buf[off:])
	o.buf = o.buf[:rest]
	return err
}
