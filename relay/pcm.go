package relay

import (
	"encoding/binary"
	"fmt"
	"io"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/onairfm/onair/audio/resample"
)

// outRate is the sample rate Opus runs at for WebRTC listeners.
const outRate = 48000

// pcmDecoder turns the MP3 frames the clock releases into 48 kHz stereo
// float samples. It decodes exactly the frames the HTTP listeners get, one
// at a time as they are released, so both transports are cut from the same
// playout position.
//
// go-mp3 pulls its input from an io.Reader and forgets its decoding state
// when that reader runs dry, so the decoder is fed one frame and then asked
// for exactly that frame's samples: it never sees an empty reader mid-track.
type pcmDecoder struct {
	feed    frameFeed
	dec     *gomp3.Decoder
	pending int // PCM bytes the decoder can produce without reading more
	rate    int
	res     *resample.Resampler

	raw []byte    // int16 stereo from go-mp3, reused
	in  []float32 // the same as floats, reused
	out []float32 // resampled, appended to by decode
}

// newTrack starts decoding a new track: go-mp3 keeps state per stream, so
// each track gets its own decoder while the resampler, and so the sound,
// runs on without a break.
func (p *pcmDecoder) newTrack() {
	p.dec = nil
	p.pending = 0
	p.feed.reset()
}

// decode decodes one frame of sampleRate Hz with samples samples per
// channel and appends the result at 48 kHz to p.out.
func (p *pcmDecoder) decode(frame []byte, samples, sampleRate int) error {
	p.feed.push(frame)
	p.pending += samples * 4
	if p.dec == nil {
		dec, err := gomp3.NewDecoder(&p.feed)
		if err != nil {
			p.feed.reset()
			p.pending = 0
			return fmt.Errorf("relay: start mp3 decoder: %w", err)
		}
		p.dec = dec
	}
	if err := p.setRate(sampleRate); err != nil {
		return err
	}
	if cap(p.raw) < p.pending {
		p.raw = make([]byte, p.pending)
	}
	raw := p.raw[:p.pending]
	n, err := io.ReadFull(p.dec, raw)
	p.pending -= n
	if err != nil {
		// A broken frame ends decoding of this track; the next frame
		// starts a fresh decoder rather than stopping the station.
		p.newTrack()
		return fmt.Errorf("relay: decode mp3 frame: %w", err)
	}
	frames := n / 4
	if cap(p.in) < frames*2 {
		p.in = make([]float32, frames*2)
	}
	in := p.in[:frames*2]
	for i := range in {
		in[i] = float32(int16(binary.LittleEndian.Uint16(raw[2*i:]))) / 32768
	}
	start := len(p.out)
	need := start + p.res.MaxOut(frames)*2
	if cap(p.out) < need {
		grown := make([]float32, start, need+need/2)
		copy(grown, p.out)
		p.out = grown
	}
	got := p.res.Process(in, p.out[start:need])
	p.out = p.out[:start+got*2]
	return nil
}

func (p *pcmDecoder) setRate(rate int) error {
	if p.res == nil {
		res, err := resample.New(rate, outRate, 2)
		if err != nil {
			return fmt.Errorf("relay: resampler for %d Hz: %w", rate, err)
		}
		p.res, p.rate = res, rate
		return nil
	}
	if rate != p.rate {
		if err := p.res.SetInputRate(rate); err != nil {
			return fmt.Errorf("relay: resample from %d Hz: %w", rate, err)
		}
		p.rate = rate
	}
	return nil
}

// consume drops the first n interleaved samples of p.out, keeping the rest
// at the front of the same array.
func (p *pcmDecoder) consume(n int) {
	rest := copy(p.out, p.out[n:])
	p.out = p.out[:rest]
}

// frameFeed is the io.Reader go-mp3 pulls frames from.
type frameFeed struct {
	buf []byte
	off int
}

func (f *frameFeed) push(frame []byte) {
	if f.off == len(f.buf) {
		f.buf, f.off = f.buf[:0], 0
	}
	f.buf = append(f.buf, frame...)
}

func (f *frameFeed) reset() { f.buf, f.off = f.buf[:0], 0 }

func (f *frameFeed) Read(p []byte) (int, error) {
	if f.off == len(f.buf) {
		return 0, io.EOF
	}
	n := copy(p, f.buf[f.off:])
	f.off += n
	return n, nil
}
