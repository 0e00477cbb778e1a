package signalling

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

// relayPeer is what the fake relay knows of one peer it made.
type relayPeer struct {
	station     string
	onCandidate func(onair.ICECandidate)
	onClose     func()

	mu     sync.Mutex
	offers []string
	cands  []onair.ICECandidate
	closed int
}

func (p *relayPeer) state() (offers int, cands []onair.ICECandidate, closed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.offers), append([]onair.ICECandidate(nil), p.cands...), p.closed
}

// fakeRelay makes peers whose Answer emits one server candidate before
// returning, as pion does while it gathers.
type fakeRelay struct {
	mu    sync.Mutex
	peers []*relayPeer
	fail  map[string]error // NewPeer error by station
	bad   map[string]bool  // offers Answer refuses
}

func (r *fakeRelay) factory() fakePeers {
	return func(_ context.Context, station string, onCandidate func(onair.ICECandidate), onClose func()) (Peer, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := r.fail[station]; err != nil {
			return nil, err
		}
		rp := &relayPeer{station: station, onCandidate: onCandidate, onClose: onClose}
		r.peers = append(r.peers, rp)
		return fakePeer{
			answer: func(sdp string) (string, error) {
				rp.mu.Lock()
				rp.offers = append(rp.offers, sdp)
				n := len(rp.offers)
				rp.mu.Unlock()
				if r.bad[sdp] {
					return "", onair.Errorf(onair.EInvalid, "bad offer")
				}
				onCandidate(onair.ICECandidate{Candidate: fmt.Sprintf("during-%d", n)})
				return "answer:" + sdp, nil
			},
			addCandidate: func(c onair.ICECandidate) error {
				rp.mu.Lock()
				defer rp.mu.Unlock()
				rp.cands = append(rp.cands, c)
				return nil
			},
			close: func() error {
				rp.mu.Lock()
				rp.closed++
				rp.mu.Unlock()
				onClose() // pion reports the close too
				return nil
			},
		}, nil
	}
}

func (r *fakeRelay) peer(i int) *relayPeer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i >= len(r.peers) {
		return nil
	}
	return r.peers[i]
}

func (r *fakeRelay) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers)
}

func newRelayEnv(t *testing.T, configure func(*Hub)) (*testEnv, *fakeRelay) {
	relay := &fakeRelay{fail: map[string]error{}, bad: map[string]bool{}}
	env := newEnv(t, func(h *Hub) {
		h.Peers = relay.factory()
		if configure != nil {
			configure(h)
		}
	})
	return env, relay
}

// offer sends an offer and checks the answer, then the candidate the fake
// gathered while answering.
func (c *client) offer(station, sdp, ref string) {
	c.t.Helper()
	c.send(evOffer, map[string]string{"station": station, "sdp": sdp}, ref)
	m := c.expect(evAnswer)
	var a answerMsg
	m.decode(c.t, &a)
	if a != (answerMsg{Station: station, SDP: "answer:" + sdp}) || m.Ref != ref {
		c.t.Fatalf("answer %+v ref %q", a, m.Ref)
	}
	var cm candidateMsg
	c.expect(evCandidate).decode(c.t, &cm)
	if cm.Station != station || len(cm.Candidate.Candidate) < len("during-") {
		c.t.Fatalf("candidate after answer %+v", cm)
	}
}

func TestWebRTCSignalling(t *testing.T) {
	env, relay := newRelayEnv(t, nil)
	c := env.dial(t, nil) // listening needs no account

	c.offer("live", "offer1", "o1")
	p := relay.peer(0)

	// A server candidate from a relay goroutine.
	mid, idx := "0", uint16(0)
	go p.onCandidate(onair.ICECandidate{Candidate: "candidate:srv", SDPMid: &mid, SDPMLineIndex: &idx})
	m := c.expect(evCandidate)
	f := m.fields(t)
	cand, _ := f["candidate"].(map[string]any)
	if f["station"] != "live" || cand["candidate"] != "candidate:srv" || cand["sdpMid"] != "0" || cand["sdpMLineIndex"] != 0.0 {
		t.Errorf("server candidate %s", m.Data)
	}

	// Client candidates; null and empty ones end the candidates.
	c.send(evCandidate, map[string]any{"station": "live", "candidate": map[string]any{
		"candidate": "candidate:cli", "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "uf"}}, "c1")
	c.expect(evAck)
	c.send(evCandidate, map[string]any{"station": "live", "candidate": nil}, "c2")
	c.expect(evAck)
	c.send(evCandidate, map[string]any{"station": "live", "candidate": map[string]any{"candidate": ""}}, "c3")
	c.expect(evAck)
	_, cands, _ := p.state()
	if len(cands) != 1 || cands[0].Candidate != "candidate:cli" || *cands[0].SDPMid != "0" ||
		*cands[0].SDPMLineIndex != 0 || *cands[0].UsernameFragment != "uf" {
		t.Errorf("relay got candidates %+v", cands)
	}

	// An ICE restart answers on the same peer.
	c.offer("live", "offer2", "o2")
	if n := relay.count(); n != 1 {
		t.Errorf("%d peers after a restart offer, want 1", n)
	}
	if offers, _, _ := p.state(); offers != 2 {
		t.Errorf("peer answered %d offers, want 2", offers)
	}

	c.send(evCandidate, map[string]any{"station": "off", "candidate": map[string]any{"candidate": "x"}}, "c4")
	c.expectError(onair.ENotFound, "c4")

	// Leaving closes the station's peer.
	c.send(evLeave, map[string]string{"station": "live"}, "l1")
	c.expect(evAck)
	if _, _, closed := p.state(); closed != 1 {
		t.Errorf("peer closed %d times after leave, want 1", closed)
	}
	c.send(evCandidate, map[string]any{"station": "live", "candidate": map[string]any{"candidate": "x"}}, "c5")
	c.expectError(onair.ENotFound, "c5")

	// The relay closing a peer makes the hub forget it.
	c.offer("live", "offer3", "o3")
	relay.peer(1).onClose()
	c.send(evCandidate, map[string]any{"station": "live", "candidate": map[string]any{"candidate": "x"}}, "c6")
	c.expectError(onair.ENotFound, "c6")
	c.offer("live", "offer4", "o4")
	if n := relay.count(); n != 3 {
		t.Errorf("%d peers, want a new one after the relay closed one", n)
	}

	// Closing the socket closes its peers.
	c.ws.Close()
	testutil.Eventually(t, 10*time.Second, "peer closed with the socket", func() bool {
		_, _, closed := relay.peer(2).state()
		return closed == 1
	})
}

func TestWebRTCErrors(t *testing.T) {
	env, relay := newRelayEnv(t, func(h *Hub) { h.Limits.MaxPeers = 2 })
	relay.fail["gone"] = onair.Errorf(onair.ENotFound, "station not live")
	relay.bad["garbage"] = true
	c := env.dial(t, nil)

	c.send(evOffer, map[string]string{"station": "gone", "sdp": "o"}, "e1")
	c.expectError(onair.ENotFound, "e1")

	// A first offer the relay cannot answer leaves no peer behind.
	c.send(evOffer, map[string]string{"station": "a", "sdp": "garbage"}, "e2")
	c.expectError(onair.EInvalid, "e2")
	if _, _, closed := relay.peer(0).state(); closed != 1 {
		t.Errorf("unanswered peer closed %d times, want 1", closed)
	}
	c.offer("a", "fine", "e3")
	c.offer("b", "fine", "e4")
	c.send(evOffer, map[string]string{"station": "c", "sdp": "fine"}, "e5")
	c.expectError(onair.ERateLimited, "e5")

	// A failed restart keeps the working peer.
	c.send(evOffer, map[string]string{"station": "a", "sdp": "garbage"}, "e6")
	c.expectError(onair.EInvalid, "e6")
	c.offer("a", "again", "e7")
	if n := relay.count(); n != 3 {
		t.Errorf("%d peers made, want 3", n)
	}
}

func TestStoppedClosesStationPeers(t *testing.T) {
	env, relay := newRelayEnv(t, nil)
	c := env.dial(t, nil)
	c.join("live")
	c.offer("live", "o", "o1")
	c.offer("off", "o", "o2")

	env.hub.Publish(onair.Event{Kind: onair.EventStopped, Station: "live"})
	c.expect(evStopped)
	c.expect(evOffline)
	testutil.Eventually(t, 10*time.Second, "stopped station's peer closed", func() bool {
		_, _, closed := relay.peer(0).state()
		return closed == 1
	})
	if _, _, closed := relay.peer(1).state(); closed != 0 {
		t.Error("another station's peer was closed")
	}
	c.send(evCandidate, map[string]any{"station": "live", "candidate": map[string]any{"candidate": "x"}}, "c1")
	c.expectError(onair.ENotFound, "c1")
}
