package rtc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/onairfm/onair/internal/testutil"
)

// tcpOfferer is a loopback-only pion client that can use TCP only, as a
// browser behind a firewall that drops UDP: it dials the server's passive
// TCP candidates with active ones (RFC 6544).
func tcpOfferer(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	return newClient(t, clientOpts{tcpOnly: true})
}

func TestICETCPReachesAClientWithoutUDP(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		srv := &Server{PionPeers: pion, LoopbackOnly: true, ICETCP: true}
		tr, st := liveTrack(t, srv)
		play(t, tr)
		client := tcpOfferer(t)
		var got received
		got.attach(client)
		_, answer := connect(t, srv, client, nil)
		port := strconv.Itoa(srv.TCPAddr().(*net.TCPAddr).Port)
		var passive bool
		for _, c := range candidates(answer) {
			if strings.Contains(c, " tcp ") && strings.Contains(c, " 127.0.0.1 "+port+" ") && strings.Contains(c, "tcptype passive") {
				passive = true
			}
		}
		if !passive {
			t.Fatalf("no passive TCP candidate on port %s in the answer: %q", port, candidates(answer))
		}
		testutil.Eventually(t, 15*time.Second, "audio over ICE-TCP", func() bool {
			return got.n.Load() > 50 && st.listeners() == 1
		})
		pair, err := selectedPair(client)
		if err != nil {
			t.Fatal(err)
		}
		if pair != "tcp" {
			t.Fatalf("the selected candidate pair uses %s", pair)
		}
	})
}

func TestICETCPOff(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		srv := &Server{PionPeers: pion, LoopbackOnly: true}
		liveTrack(t, srv)
		answer, _ := answerOf(t, context.Background(), srv, offerer(t).LocalDescription().SDP, nil)
		for _, c := range candidates(answer) {
			if strings.Contains(c, " tcp ") {
				t.Fatalf("a TCP candidate with ICE-TCP off: %q", c)
			}
		}
		if srv.TCPAddr() != nil {
			t.Fatal("a TCP address with ICE-TCP off")
		}
	})
}

// selectedPair is the protocol ("udp", "tcp") of pc's selected ICE pair.
func selectedPair(pc *webrtc.PeerConnection) (string, error) {
	trs := pc.GetTransceivers()
	if len(trs) == 0 {
		return "", fmt.Errorf("no transceiver")
	}
	pair, err := trs[0].Receiver().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return "", fmt.Errorf("no selected pair: %w", err)
	}
	return pair.Local.Protocol.String(), nil
}

// TestICETCPCloseEndsSilentConnections: connections to ICE-TCP's port that
// never send a packet are closed with the server, not left to their
// first-packet wait.
func TestICETCPCloseEndsSilentConnections(t *testing.T) {
	srv := &Server{LoopbackOnly: true, ICETCP: true}
	tr, err := srv.NewTrack("s", nil)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", srv.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// The splitter has them once it accepted them.
	sp := srv.tcpLite
	testutil.Eventually(t, 10*time.Second, "the connections accepted", func() bool {
		sp.mu.Lock()
		defer sp.mu.Unlock()
		return len(sp.sorting) == 3
	})
	tr.Close()
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	// Without the server closing them, they would stay open for
	// tcpFirstWait, and Close would wait for them.
	deadline := time.Now().Add(tcpFirstWait / 2)
	for i, c := range conns {
		_ = c.SetReadDeadline(deadline)
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection %d still open after the server closed: %v", i, err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}
