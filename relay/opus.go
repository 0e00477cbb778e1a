package relay

import (
	"fmt"
	"time"

	"github.com/thesyncim/gopus"
)

// OpusConfig sets the one Opus encoder each live station runs for its
// WebRTC listeners.
type OpusConfig struct {
	Bitrate int // bit/s; 0 means 96000
	FrameMS int // 20, 40 or 60; 0 means 20
}

func (c OpusConfig) withDefaults() OpusConfig {
	if c.Bitrate == 0 {
		c.Bitrate = 96000
	}
	if c.FrameMS == 0 {
		c.FrameMS = 20
	}
	return c
}

// opusEncoder encodes a station's 48 kHz stereo PCM once for every WebRTC
// listener.
type opusEncoder struct {
	enc     *gopus.Encoder
	samples int           // per channel per packet
	dur     time.Duration // per packet
	packet  []byte        // reused
	pos     time.Duration // stream time encoded so far
}

func newOpusEncoder(cfg OpusConfig) (*opusEncoder, error) {
	cfg = cfg.withDefaults()
	switch cfg.FrameMS {
	case 20, 40, 60:
	default:
		return nil, fmt.Errorf("relay: opus frame of %d ms: must be 20, 40 or 60", cfg.FrameMS)
	}
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{
		SampleRate:  outRate,
		Channels:    2,
		Application: gopus.ApplicationAudio,
	})
	if err != nil {
		return nil, fmt.Errorf("relay: new opus encoder: %w", err)
	}
	if err := enc.SetBitrate(cfg.Bitrate); err != nil {
		return nil, fmt.Errorf("relay: opus bitrate %d: %w", cfg.Bitrate, err)
	}
	samples := outRate * cfg.FrameMS / 1000
	if err := enc.SetFrameSize(samples); err != nil {
		return nil, fmt.Errorf("relay: opus frame size %d: %w", samples, err)
	}
	if err := enc.SetSignal(gopus.SignalMusic); err != nil {
		return nil, fmt.Errorf("relay: opus signal: %w", err)
	}
	return &opusEncoder{
		enc:     enc,
		samples: samples,
		dur:     time.Duration(cfg.FrameMS) * time.Millisecond,
		packet:  make([]byte, 4000),
	}, nil
}

// encode encodes one packet from pcm, which holds exactly e.samples stereo
// samples. The returned bytes are valid until the next call.
func (e *opusEncoder) encode(pcm []float32) ([]byte, error) {
	n, err := e.enc.Encode(pcm, e.packet)
	if err != nil {
		return nil, fmt.Errorf("relay: opus encode: %w", err)
	}
	e.pos += e.dur
	return e.packet[:n], nil
}
