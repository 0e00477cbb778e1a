package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/thesyncim/gopus"

	"github.com/onairfm/onair/internal/loopback"
)

// Naive is the reference the WebRTC figures are measured against: what a
// pion user would write first. One TrackLocalStaticSample shared by every
// peer, written every 20 ms by one goroutine (a packet's length can be
// set, to tell what a longer packet alone buys); pion's defaults (its default
// codecs and interceptors, a UDP port per peer); the answer sent once ICE
// gathering is complete. It speaks just enough of onair's WebSocket
// protocol for the load tool's WebRTC listeners (webrtc:offer →
// webrtc:answer, webrtc:candidate both ways) and serves /healthz for
// `onair-load wait`. ICE stays on loopback, as everything here.
//
// Its audio is one Opus packet encoded at start (a sawtooth at 96 kbit/s,
// about the size of onair's), sent again and again: the reference pays no
// decoding or encoding, which onair's figures include.
type Naive struct {
	frame time.Duration // of each packet
	api   *webrtc.API
	track *webrtc.TrackLocalStaticSample
	up    websocket.Upgrader

	mu    sync.Mutex
	peers map[*webrtc.PeerConnection]struct{}
}

// NewNaive makes the reference server's pion API and its one track, sending
// Opus packets of frame (20, 40 or 60 ms; 0 means 20, pion's and the
// browsers' usual).
func NewNaive(frame time.Duration) (*Naive, error) {
	if frame == 0 {
		frame = 20 * time.Millisecond
	}
	if frame != 20*time.Millisecond && frame != 40*time.Millisecond && frame != 60*time.Millisecond {
		return nil, fmt.Errorf("load: naive packets of %v: want 20, 40 or 60 ms", frame)
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("load: naive codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, fmt.Errorf("load: naive interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	loopback.Configure(&se)
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "naive")
	if err != nil {
		return nil, fmt.Errorf("load: naive track: %w", err)
	}
	return &Naive{
		frame: frame,
		api:   webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)),
		track: track,
		peers: map[*webrtc.PeerConnection]struct{}{},
	}, nil
}

// Serve serves ln until ctx ends, writing the track once a packet.
func (n *Naive) Serve(ctx context.Context, ln net.Listener) error {
	pkt, err := opusPacket(n.frame)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /ws", n.serveWS)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(n.frame)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = n.track.WriteSample(media.Sample{Data: pkt, Duration: n.frame})
			}
		}
	})
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	err = srv.Serve(ln)
	wg.Wait()
	n.mu.Lock()
	for pc := range n.peers {
		_ = pc.Close()
	}
	n.mu.Unlock()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("load: naive server: %w", err)
}

type naiveMsg struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Ref   string          `json:"ref,omitempty"`
}

// serveWS runs one socket: one PeerConnection per offer, closed with the
// socket.
func (n *Naive) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := n.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.Close() }()
	var wmu sync.Mutex
	send := func(event string, data any, ref string) {
		b, _ := json.Marshal(data)
		wmu.Lock()
		defer wmu.Unlock()
		_ = c.WriteJSON(naiveMsg{Event: event, Data: b, Ref: ref})
	}
	var pcs []*webrtc.PeerConnection
	defer func() {
		for _, pc := range pcs {
			_ = pc.Close()
			n.mu.Lock()
			delete(n.peers, pc)
			n.mu.Unlock()
		}
	}()
	for {
		var m naiveMsg
		if err := c.ReadJSON(&m); err != nil {
			return
		}
		var d struct {
			Station   string                   `json:"station"`
			SDP       string                   `json:"sdp"`
			Candidate *webrtc.ICECandidateInit `json:"candidate"`
		}
		if json.Unmarshal(m.Data, &d) != nil {
			continue
		}
		switch m.Event {
		case "webrtc:offer":
			pc, answer, err := n.answer(d.SDP)
			if err != nil {
				send("error", map[string]string{"message": err.Error()}, m.Ref)
				continue
			}
			pcs = append(pcs, pc)
			send("webrtc:answer", map[string]string{"station": d.Station, "sdp": answer}, m.Ref)
		case "webrtc:candidate":
			if d.Candidate != nil && d.Candidate.Candidate != "" && len(pcs) > 0 {
				_ = pcs[len(pcs)-1].AddICECandidate(*d.Candidate)
			}
		}
	}
}

// answer makes a PeerConnection with the shared track and answers offer
// with every candidate in the answer.
func (n *Naive) answer(offer string) (*webrtc.PeerConnection, string, error) {
	pc, err := n.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("load: naive peer: %w", err)
	}
	fail := func(what string, err error) (*webrtc.PeerConnection, string, error) {
		_ = pc.Close()
		return nil, "", fmt.Errorf("load: naive %s: %w", what, err)
	}
	sender, err := pc.AddTrack(n.track)
	if err != nil {
		return fail("add track", err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail("offer", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail("answer", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return fail("set answer", err)
	}
	<-gathered
	n.mu.Lock()
	n.peers[pc] = struct{}{}
	n.mu.Unlock()
	return pc, pc.LocalDescription().SDP, nil
}

// opusPacket encodes 20 ms of a sawtooth at 96 kbit/s.
func opusPacket(frame time.Duration) ([]byte, error) {
	samples := int(48000 * frame / time.Second)
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: 48000, Channels: 2, Application: gopus.ApplicationAudio})
	if err != nil {
		return nil, fmt.Errorf("load: opus encoder: %w", err)
	}
	if err := enc.SetBitrate(96000); err != nil {
		return nil, fmt.Errorf("load: opus bitrate: %w", err)
	}
	if err := enc.SetFrameSize(samples); err != nil {
		return nil, fmt.Errorf("load: opus frame: %w", err)
	}
	pcm := make([]float32, samples*2)
	for i := range pcm {
		pcm[i] = float32(i%96) / 96
	}
	out := make([]byte, 4000)
	n, err := enc.Encode(pcm, out)
	if err != nil {
		return nil, fmt.Errorf("load: opus encode: %w", err)
	}
	return out[:n], nil
}
