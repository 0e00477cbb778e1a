// Package mp3enc encodes a station's PCM to MPEG audio Layer III frames for
// its HTTP listeners, over shine (github.com/braheezy/shine-mp3), the only
// pure-Go MP3 encoder: fixed point, fast, plain (no psychoacoustic model, no
// joint stereo), which suits one encode per station on a small server.
//
// Every frame stands alone: shine never uses the bit reservoir (its
// main_data_begin is always 0), so a listener can join at any frame. The
// decoder still lacks the previous granule's MDCT overlap there, so a
// joiner's first frame may click, as it does with Icecast.
package mp3enc

import (
	"fmt"
	"slices"

	shine "github.com/braheezy/shine-mp3/pkg/mp3"

	"github.com/onairfm/onair/audio/limiter"
)

// granule is the number of samples per channel in one Layer III granule:
// MPEG-1 frames hold two, MPEG-2 and 2.5 frames one.
const granule = 576

// Bitrates in kbit/s by header bitrate index (index 0, free format, and 15
// are not used). shine accepts a subset for MPEG-2.5 (8 to 64).
var (
	kbpsV1  = [...]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	kbpsLSF = [...]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
)

// Encoder turns interleaved float32 PCM into whole MP3 frames. It buffers
// input to whole frames and reuses every buffer, so Encode allocates
// nothing once running. An Encoder is not safe for concurrent use.
type Encoder struct {
	rate, channels, kbps, index int
	spf                         int // samples per channel per frame

	enc  *shine.Encoder
	in   []int16 // one frame of interleaved input
	fill int     // values in in
	// Input is scaled and limited before shine (see shineGain, headroom).
	lim     *limiter.Limiter
	scratch []float32

	// shine writes its bit stream 32 bits at a time, so a frame's last 1
	// to 3 bytes leave with the next frame's output: out gathers the bytes
	// and sizes the lengths of the frames they belong to.
	out     []byte
	sizes   [4]int
	nsizes  int
	emitted int64 // frames handed to emit
}

// New returns an Encoder for rate Hz, channels (1 or 2; 2 only at MPEG-1
// rates) and bitrate bit/s.
// The rates are MPEG-1's 32000, 44100 and 48000, MPEG-2's 16000, 22050 and
// 24000 and MPEG-2.5's 8000, 11025 and 12000; the bitrate must be one of
// the version's Layer III bitrates (32 to 320 kbit/s for MPEG-1, 8 to 160
// for MPEG-2, 8 to 64 for MPEG-2.5).
func New(rate, channels, bitrate int) (*Encoder, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("mp3enc: %d channels, want 1 or 2: %w", channels, ErrChannels)
	}
	var table []int
	spf := 2 * granule
	switch rate {
	case 32000, 44100, 48000:
		// shine v0.2.0 counts 9 bytes of side information for an MPEG-1
		// mono frame instead of 17 and writes frames 8 bytes longer than
		// their headers say: no decoder could follow them.
		if channels == 1 {
			return nil, fmt.Errorf("mp3enc: mono at %d Hz: shine sizes MPEG-1 mono frames wrongly: %w", rate, ErrChannels)
		}
		table = kbpsV1[:]
	case 16000, 22050, 24000:
		table, spf = kbpsLSF[:], granule
	case 8000, 11025, 12000:
		table, spf = kbpsLSF[:9], granule
	default:
		return nil, fmt.Errorf("mp3enc: %d Hz: %w", rate, ErrRate)
	}
	index := -1
	if bitrate%1000 == 0 && bitrate > 0 {
		index = slices.Index(table, bitrate/1000)
	}
	if index <= 0 {
		return nil, fmt.Errorf("mp3enc: %d bit/s at %d Hz, want one of %v kbit/s: %w",
			bitrate, rate, table[1:], ErrBitrate)
	}
	if _, err := shine.CheckConfig(rate, bitrate/1000); err != nil {
		return nil, fmt.Errorf("mp3enc: %d Hz at %d bit/s: %w: %w", rate, bitrate, err, ErrBitrate)
	}
	e := &Encoder{
		rate: rate, channels: channels, kbps: bitrate / 1000, index: index, spf: spf,
		in:      make([]int16, spf*channels),
		out:     make([]byte, 0, 16384),
		lim:     limiter.NewSamplePeak(rate, channels, headroomDB),
		scratch: make([]float32, spf*channels),
	}
	e.Reset()
	return e, nil
}

// SamplesPerFrame is the number of samples per channel in one frame: 1152
// for MPEG-1 rates, 576 below 32 kHz.
func (e *Encoder) SamplesPerFrame() int { return e.spf }

// Reset makes the encoder start over as if new: buffered input and
// unfinished output are dropped and frame indexes count from 0 again. It
// makes a new shine encoder (about 150 KB and 0.2 ms: shine has no reset
// of its own).
func (e *Encoder) Reset() {
	e.enc = e.newShine()
	e.lim.Reset()
	e.fill = 0
	e.out = e.out[:0]
	e.nsizes = 0
	e.emitted = 0
}

// newShine makes a shine encoder at e's bitrate. shine.NewEncoder always
// sets 128 kbit/s; the fields it derives from the bitrate are exported and
// set again here the way it computes them.
func (e *Encoder) newShine() *shine.Encoder {
	s := shine.NewEncoder(e.rate, e.channels)
	m := &s.Mpeg
	m.Bitrate = int64(e.kbps)
	m.BitrateIndex = int64(e.index)
	// Slots (bytes) per frame, exactly: shine's floating-point division
	// gives 431.99999 for 432 at 32 kHz and 96 kbit/s and pads frames that
	// must not be.
	bytesPerSec := e.kbps * 1000 / 8
	m.WholeSlotsPerFrame = int64(e.spf * bytesPerSec / e.rate)
	m.FracSlotsPerFrame = float64(e.spf*bytesPerSec%e.rate) / float64(e.rate)
	m.SlotLag = -m.FracSlotsPerFrame
	m.Padding = 0
	return s
}

// Encode consumes pcm, interleaved float32 samples in [-1, 1], whole
// frames of any number, and calls emit with every MP3 frame completed. at is the index,
// in samples per channel since the encoder started, of the frame's first
// input sample (negative for the first frame, which starts with the
// limiter's look-ahead).
//
// What decodes from the frames has the level of pcm: shine's own gain is
// taken out first, and peaks that would overflow shine are limited (see
// headroomDB), so a mix held at -1 dBTP decodes under -1 dBTP. Decoders hear a sound later
// than its at suggests: a tone fed at sample n starts at sample n+1015 of
// go-mp3's output (shine's filter bank plus the decoder's own 529; see
// TestDelay). frame is valid only during the call.
//
// A frame is emitted while the next one is encoded (shine holds back its
// last bytes until then), so output lags input by up to two frames.
func (e *Encoder) Encode(pcm []float32, emit func(frame []byte, at int64)) error {
	if len(pcm)%e.channels != 0 {
		return fmt.Errorf("mp3enc: %d samples of %d channels: %w", len(pcm), e.channels, ErrPartialFrame)
	}
	for len(pcm) > 0 {
		n := min(len(pcm), len(e.in)-e.fill)
		buf := e.scratch[:n]
		for i, v := range pcm[:n] {
			buf[i] = v * shineScale
		}
		e.lim.Process(buf)
		toInt16(e.in[e.fill:e.fill+n], buf)
		e.fill += n
		pcm = pcm[n:]
		if e.fill < len(e.in) {
			return nil
		}
		e.fill = 0
		if err := e.encodeFrame(emit); err != nil {
			return err
		}
	}
	return nil
}

// encodeFrame encodes the full input buffer and emits the frames it
// completes.
func (e *Encoder) encodeFrame(emit func([]byte, int64)) error {
	data, n := e.enc.EncodeBufferInterleaved(e.in)
	// The frame just encoded is WholeSlotsPerFrame+Padding bytes long
	// (Layer III slots are bytes); shine chose Padding for it.
	m := &e.enc.Mpeg
	if e.nsizes == len(e.sizes) {
		return fmt.Errorf("mp3enc: %d frames pending: %w", e.nsizes, ErrFraming)
	}
	e.sizes[e.nsizes] = int(m.WholeSlotsPerFrame + m.Padding)
	e.nsizes++
	e.out = append(e.out, data[:n]...)

	off := 0
	for e.nsizes > 0 && len(e.out)-off >= e.sizes[0] {
		size := e.sizes[0]
		frame := e.out[off : off+size]
		if frame[0] != 0xFF || frame[1]&0xE0 != 0xE0 {
			return fmt.Errorf("mp3enc: frame %d starts % x: %w", e.emitted, frame[:2], ErrFraming)
		}
		emit(frame, e.emitted*int64(e.spf)-int64(e.lim.Latency()))
		e.emitted++
		off += size
		copy(e.sizes[:], e.sizes[1:e.nsizes])
		e.nsizes--
	}
	e.out = e.out[:copy(e.out, e.out[off:])]
	return nil
}

// shine decodes 9/8 (+1.02 dB) louder than its input, on tones of any
// frequency and level and on noise alike (measured with this port and with
// ffmpeg's libshine): input is scaled by the inverse so the MP3 mount plays
// at the station's loudness target like its other outputs.
const shineScale = 8.0 / 9

// headroomDB is the highest sample shine is fed, dBFS. Its fixed-point
// filter bank overflows on loud low frequencies: a 100 or 440 Hz sine at
// -3 dBFS decodes clipped at 0 dBFS, at -4 dBFS cleanly
// (TestLevelAndNoOverflowNearFullScale). Samples above are limited (sample
// peaks: the overflow is about sample values, and the mix was already held
// under -1 dBTP); after shine's gain the frames decode under -3 dBTP, with
// room for the peaks between samples.
const headroomDB = -4.0

// toInt16 converts float samples to 16-bit ones, rounding to nearest and
// clipping instead of wrapping; NaN becomes silence.
func toInt16(dst []int16, src []float32) {
	for i, v := range src {
		x := v * 32768
		switch {
		case x >= 32767:
			dst[i] = 32767
		case x <= -32768:
			dst[i] = -32768
		case x == x:
			dst[i] = int16(int32(x+32768.5) - 32768)
		default:
			dst[i] = 0
		}
	}
}
