package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/thesyncim/gopus"

	"github.com/onairfm/onair/internal/loopback"
)

// FrameSamples is one 20 ms Opus frame at 48 kHz, per channel.
const FrameSamples = 960

// Publisher is a WHIP publisher (RFC 9725): a loopback-only pion
// PeerConnection that sends one Opus audio track, encoded here with gopus
// from PCM the caller gives it, 20 ms at a time.
type Publisher struct {
	// Location is the session URL the server answered, for DELETE.
	Location string
	// Answer is the server's SDP answer.
	Answer string

	header    http.Header
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticSample
	enc       *gopus.Encoder
	channels  int
	packet    []byte
	connected chan struct{}
	once      sync.Once
	drained   chan struct{}
}

// WHIPError is a refused offer: the server's status and JSON body.
type WHIPError struct {
	Status int
	Body   string
}

func (e *WHIPError) Error() string { return fmt.Sprintf("client: whip: %d: %s", e.Status, e.Body) }

// PublishWHIP offers a sendonly Opus track with channels channels (1 or 2;
// 2 announces sprop-stereo) to the WHIP endpoint at endpoint, sending
// header (Authorization) with every request, and applies the answer. A
// refusal is a *WHIPError.
func PublishWHIP(ctx context.Context, endpoint string, header http.Header, channels int) (*Publisher, error) {
	fmtp := "minptime=10;useinbandfec=1"
	if channels == 2 {
		fmtp += ";stereo=1;sprop-stereo=1"
	}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: fmtp}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: codec, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("client: register opus: %w", err)
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: 48000, Channels: channels, Application: gopus.ApplicationAudio})
	if err != nil {
		return nil, fmt.Errorf("client: opus encoder: %w", err)
	}
	if err := enc.SetFrameSize(FrameSamples); err != nil {
		return nil, fmt.Errorf("client: opus frame size: %w", err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("client: new peer connection: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(codec, "audio", "whip")
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("client: new track: %w", err)
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("client: add track: %w", err)
	}
	p := &Publisher{header: header, pc: pc, track: track, enc: enc, channels: channels, packet: make([]byte, 4000),
		connected: make(chan struct{}), drained: make(chan struct{})}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.once.Do(func() { close(p.connected) })
		}
	})
	// RTCP from the server is read so it does not pile up; the loop ends
	// when pc closes.
	go func() {
		defer close(p.drained)
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Sender().Read(buf); err != nil {
				return
			}
		}
	}()
	if err := p.negotiate(ctx, endpoint); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Publisher) negotiate(ctx context.Context, endpoint string) error {
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("client: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("client: set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("client: gathering: %w", ctx.Err())
	}
	status, h, body, err := PostOffer(ctx, endpoint, p.header, "application/sdp", p.pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return &WHIPError{Status: status, Body: body}
	}
	if h.Get("Content-Type") != "application/sdp" {
		return fmt.Errorf("client: whip answer of type %q", h.Get("Content-Type"))
	}
	loc, err := url.Parse(h.Get("Location"))
	if err != nil || h.Get("Location") == "" {
		return fmt.Errorf("client: whip answer without a Location")
	}
	base, _ := url.Parse(endpoint)
	p.Location = base.ResolveReference(loc).String()
	p.Answer = body
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		return fmt.Errorf("client: set answer: %w", err)
	}
	return nil
}

// PostOffer POSTs an SDP offer (or any body) to a WHIP endpoint and returns
// the status, headers and body of the answer.
func PostOffer(ctx context.Context, endpoint string, header http.Header, contentType, sdp string) (int, http.Header, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewBufferString(sdp))
	if err != nil {
		return 0, nil, "", fmt.Errorf("client: whip request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("client: whip post: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, "", fmt.Errorf("client: whip answer: %w", err)
	}
	return resp.StatusCode, resp.Header, string(b), nil
}

// WaitConnected waits for ICE and DTLS to connect.
func (p *Publisher) WaitConnected(ctx context.Context) error {
	select {
	case <-p.connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("client: waiting for the whip connection: %w", ctx.Err())
	}
}

// WriteFrame encodes one 20 ms frame of interleaved PCM (FrameSamples per
// channel) and sends it.
func (p *Publisher) WriteFrame(pcm []float32) error {
	n, err := p.enc.Encode(pcm, p.packet)
	if err != nil {
		return fmt.Errorf("client: opus encode: %w", err)
	}
	if err := p.track.WriteSample(media.Sample{Data: p.packet[:n], Duration: 20 * time.Millisecond}); err != nil {
		return fmt.Errorf("client: write sample: %w", err)
	}
	return nil
}

// Stream sends 20 ms frames in real time until ctx ends: frame i goes at
// start + i×20 ms, and frames that fall behind (a busy machine) go at once
// to catch up, as a sound card's samples would, so the stream never runs
// short of real time. fill writes frame number i (interleaved,
// FrameSamples per channel) into pcm; Stream calls it just before the
// frame is sent.
func (p *Publisher) Stream(ctx context.Context, fill func(i int, pcm []float32)) error {
	pcm := make([]float32, FrameSamples*p.channels)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; ; i++ {
		fill(i, pcm)
		if err := p.WriteFrame(pcm); err != nil {
			return err
		}
		timer.Reset(time.Until(start.Add(time.Duration(i+1) * 20 * time.Millisecond)))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// Delete ends the session with a DELETE of its Location and returns the
// status.
func (p *Publisher) Delete(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, p.Location, nil)
	if err != nil {
		return 0, fmt.Errorf("client: whip delete: %w", err)
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: whip delete: %w", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// PC exposes the PeerConnection, for tests that inspect or break it.
func (p *Publisher) PC() *webrtc.PeerConnection { return p.pc }

// Close closes the PeerConnection (without a DELETE) and waits for its
// reader.
func (p *Publisher) Close() error {
	err := p.pc.Close()
	<-p.drained
	if errors.Is(err, webrtc.ErrConnectionClosed) {
		err = nil
	}
	return err
}
