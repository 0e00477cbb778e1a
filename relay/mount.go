package relay

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/mp3enc"
	"github.com/onairfm/onair/audio/oggopus"
	"github.com/onairfm/onair/relay/icy"
)

// mountKind is one of the HTTP encodings of a station.
type mountKind int

const (
	mountMP3 mountKind = iota
	mountOgg
)

// mount is an HTTP mount of a station (/stream/slug, /stream/slug.opus):
// one encoder, one ring of its chunks, and the count of its listeners.
type mount struct {
	kind mountKind
	ring *ring
	enc  encoder
	// listeners is guarded by the station's mu: the station decides to
	// stop encoding, and clears the ring, only when it is 0.
	listeners int
	on        bool // encoding; station goroutine only
}

func icyBlock(np *onair.NowPlaying) []byte {
	if np == nil {
		return icy.Block("")
	}
	return icy.Block(onair.DisplayTitle(np.Artist, np.Title))
}

// mp3Encoder encodes the mix to MP3 chunks for the ring, marking where
// each title starts.
type mp3Encoder struct {
	ring    *ring
	rate    int
	bitrate int // of enc
	want    int // the bitrate the station asks for; applied at begin
	icyBR   *atomic.Int64
	enc     *mp3enc.Encoder
	build   chunkBuilder
	fed     int64 // mix frames handed to the encoder since begin
	base    int64 // stream frame of encoder frame 0
	pending []pendingTitle
	emit    func(frame []byte, at int64)
}

// pendingTitle is a title waiting for the first MP3 frame (or Opus packet)
// that starts at or after it.
type pendingTitle struct {
	at    int64
	title *title
}

// newMP3Encoder makes the MP3 mount's encoder; icyBR is where listeners'
// icy-br header reads the bitrate it encodes at.
func newMP3Encoder(r *ring, rate, bitrate int, icyBR *atomic.Int64) (*mp3Encoder, error) {
	enc, err := mp3enc.New(rate, 2, bitrate)
	if err != nil {
		return nil, fmt.Errorf("relay: mp3 encoder: %w", err)
	}
	icyBR.Store(int64(bitrate))
	e := &mp3Encoder{ring: r, rate: rate, bitrate: bitrate, enc: enc, icyBR: icyBR}
	frameDur := time.Duration(enc.SamplesPerFrame()) * time.Second / time.Duration(rate)
	e.emit = func(frame []byte, at int64) {
		for len(e.pending) > 0 && e.pending[0].at <= at {
			e.build.setBlock(e.pending[0].title.block)
			e.pending = e.pending[1:]
		}
		e.build.add(frame, time.Duration(e.base+at)*time.Second/time.Duration(e.rate), frameDur)
	}
	return e, nil
}

// setBitrate makes the encoder use bitrate from its next begin: a player
// connected to the mount keeps the stream it started with.
func (e *mp3Encoder) setBitrate(bitrate int) { e.want = bitrate }

// apply switches to the bitrate asked for, when it differs.
func (e *mp3Encoder) apply() {
	if e.want == 0 || e.want == e.bitrate {
		return
	}
	if enc, err := mp3enc.New(e.rate, 2, e.want); err == nil {
		e.enc, e.bitrate = enc, e.want
		e.icyBR.Store(int64(e.bitrate))
	}
}

func (e *mp3Encoder) begin(at int64) {
	e.apply()
	e.enc.Reset()
	e.fed, e.base = 0, at
	e.pending = e.pending[:0]
	e.build.take()
}

func (e *mp3Encoder) title(t *title) {
	if e.fed == 0 {
		e.build.setBlock(t.block)
		return
	}
	e.pending = append(e.pending, pendingTitle{at: e.fed, title: t})
}

func (e *mp3Encoder) pcm(block []float32, _ int64) {
	// shine takes any float; a bad frame cannot happen after validation
	// at New, so an error here is a programming error worth a log line.
	_ = e.enc.Encode(block, e.emit)
	e.fed += int64(len(block) / 2)
}

func (e *mp3Encoder) flush() {
	if c := e.build.take(); c != nil {
		e.ring.publish(c)
	}
}

func (e *mp3Encoder) end() { e.build.take() }

// outRate is the sample rate Opus runs at, for WebRTC and Ogg alike.
const outRate = 48000

// opusPreSkip is what an Ogg/Opus decoder drops at the start of each link:
// the usual encoder lookahead (6.5 ms at 48 kHz).
const opusPreSkip = 312

// oggEncoder encodes the mix to Ogg/Opus chunks: a new chained logical
// stream, with its own OpusTags, at each title change.
type oggEncoder struct {
	ring    *ring
	rate    int // of the mix
	opus    *opusStage
	mux     *oggopus.Muxer
	build   chunkBuilder
	fed     int64 // mix frames since begin
	pending []pendingTitle
	cur     *title
	emit    func(pkt []byte, at48 int64, dur time.Duration)
}

func newOggEncoder(r *ring, rate int, cfg OpusConfig) (*oggEncoder, error) {
	st, err := newOpusStage(rate, cfg)
	if err != nil {
		return nil, err
	}
	e := &oggEncoder{ring: r, rate: rate, opus: st}
	e.emit = func(pkt []byte, at48 int64, dur time.Duration) {
		for len(e.pending) > 0 && e.pending[0].at <= at48 {
			e.chain(e.pending[0].title)
			e.pending = e.pending[1:]
		}
		e.mux.Add(pkt, int(int64(dur)*outRate/int64(time.Second)))
		e.build.grow(dur)
	}
	return e, nil
}

func (e *oggEncoder) begin(at int64) {
	e.opus.begin(at, e.rate)
	e.fed = 0
	e.pending = e.pending[:0]
	e.build.take()
	e.mux = oggopus.NewMuxer(2, opusPreSkip)
	e.cur = nil
}

// chain ends the logical stream in force and starts one for t. The chunk
// being built is published first, with the old stream's end, so that a
// chunk never holds two streams' headers and a listener starting at any
// chunk is sent one header.
func (e *oggEncoder) chain(t *title) {
	e.cur = t
	artist, name := "", ""
	if t.np != nil {
		artist, name = t.np.Artist, t.np.Title
	}
	out := e.mux.Begin(name, artist)
	head := e.mux.Header()
	if eos := out[:len(out)-len(head)]; len(eos) > 0 {
		e.build.addPages(eos, 0)
		e.flush()
	}
	e.build.startChain(head)
}

func (e *oggEncoder) title(t *title) {
	if e.mux == nil {
		return
	}
	at48 := e.opus.at48 + e.fed*outRate/int64(e.rate)
	if e.cur == nil {
		e.chain(t)
		return
	}
	e.pending = append(e.pending, pendingTitle{at: at48, title: t})
}

func (e *oggEncoder) pcm(block []float32, _ int64) {
	if e.cur == nil {
		e.chain(newTitle(nil))
	}
	_ = e.opus.push(block, e.emit)
	e.fed += int64(len(block) / 2)
}

func (e *oggEncoder) flush() {
	if e.mux != nil {
		e.build.addPages(e.mux.Page(), 0)
	}
	if c := e.build.take(); c != nil {
		e.ring.publish(c)
	}
}

func (e *oggEncoder) end() {
	e.build.take()
	e.mux = nil
	e.cur = nil
}

// rtcEncoder encodes the mix to Opus for the station's WebRTC track. It
// has no burst: a browser wants the live edge.
type rtcEncoder struct {
	track WebRTCTrack
	rate  int
	opus  *opusStage
	emit  func(pkt []byte, at48 int64, dur time.Duration)
	// tap, when set, sees each packet too.
	tap func(pkt []byte, at48 int64, dur time.Duration)
}

func newRTCEncoder(t WebRTCTrack, rate int, cfg OpusConfig) (*rtcEncoder, error) {
	st, err := newOpusStage(rate, cfg)
	if err != nil {
		return nil, err
	}
	e := &rtcEncoder{track: t, rate: rate, opus: st}
	e.emit = func(pkt []byte, at48 int64, dur time.Duration) {
		e.track.Write(pkt, dur)
		if e.tap != nil {
			e.tap(pkt, at48, dur)
		}
	}
	return e, nil
}

func (e *rtcEncoder) begin(at int64) { e.opus.begin(at, e.rate) }
func (e *rtcEncoder) title(*title)   {}
func (e *rtcEncoder) pcm(b []float32, _ int64) {
	_ = e.opus.push(b, e.emit)
}
func (e *rtcEncoder) flush() {}
func (e *rtcEncoder) end()   {}
