package rtc

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/testutil"
)

func udpPair(t *testing.T) (*batchConn, *net.UDPConn) {
	t.Helper()
	s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetReadBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	b := newBatchConn(s)
	t.Cleanup(func() {
		b.Close()
		r.Close()
	})
	return b, r
}

func TestBatchConnQueuesDuringAFanOutOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int  // datagrams written
		hold    bool // inside a fan-out
		batches int64
	}{
		{"write through", 5, false, 0},
		{"one batch", 10, true, 1},
		{"full batches and a rest", 2*batchMax + 22, true, 3},
		{"exactly full", batchMax, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, r := udpPair(t)
			to := r.LocalAddr().(*net.UDPAddr).AddrPort()
			if tc.hold {
				b.hold()
			}
			for i := range tc.n {
				// The caller reuses its buffer at once, as pion does.
				buf := []byte(fmt.Sprintf("packet %04d", i))
				if _, err := b.WriteToAddrPort(buf, to); err != nil {
					t.Fatal(err)
				}
				copy(buf, "XXXXXX")
			}
			if tc.hold {
				if got := b.sent.Load(); got != int64(tc.n/batchMax*batchMax) {
					t.Fatalf("%d sent before the release, want only full batches", got)
				}
				b.release()
			}
			if err := r.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1500)
			for i := range tc.n {
				n, from, err := r.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("datagram %d: %v", i, err)
				}
				if want := fmt.Sprintf("packet %04d", i); !bytes.Equal(buf[:n], []byte(want)) {
					t.Fatalf("datagram %d is %q, want %q", i, buf[:n], want)
				}
				if from.Port() != b.LocalAddr().(*net.UDPAddr).AddrPort().Port() {
					t.Fatalf("datagram %d from %v", i, from)
				}
			}
			if got := b.batches.Load(); got != tc.batches {
				t.Fatalf("%d sendmmsg calls, want %d", got, tc.batches)
			}
			if f := b.failed.Load(); f != 0 {
				t.Fatalf("%d datagrams refused", f)
			}
		})
	}
}

func TestBatchConnNestedHolds(t *testing.T) {
	b, r := udpPair(t)
	to := r.LocalAddr().(*net.UDPAddr)
	b.hold()
	b.hold()
	if _, err := b.WriteTo([]byte("a"), to); err != nil {
		t.Fatal(err)
	}
	b.release()
	if b.sent.Load() != 0 {
		t.Fatal("sent while another fan-out still holds the socket")
	}
	b.release()
	if b.sent.Load() != 1 {
		t.Fatalf("%d sent after the last release, want 1", b.sent.Load())
	}
	// Too large for a slot: written through even during a fan-out.
	b.hold()
	if _, err := b.WriteTo(make([]byte, batchSlot+1), to); err != nil {
		t.Fatal(err)
	}
	if b.sent.Load() != 1 || b.n != 0 {
		t.Fatal("a datagram larger than a slot was queued")
	}
	b.release()
}

func BenchmarkBatchConn(b *testing.B) {
	for _, hold := range []bool{false, true} {
		b.Run(fmt.Sprintf("batched=%v", hold), func(b *testing.B) {
			s, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			r, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			defer r.Close()
			c := newBatchConn(s)
			defer c.Close()
			to := r.LocalAddr().(*net.UDPAddr).AddrPort()
			p := make([]byte, 268)
			b.ReportAllocs()
			for b.Loop() {
				if hold {
					c.hold()
				}
				for range 100 {
					_, _ = c.WriteToAddrPort(p, to)
				}
				if hold {
					c.release()
				}
			}
		})
	}
}

func TestLanesBatchTheFanOut(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		srv := &Server{PionPeers: pion, LoopbackOnly: true}
		tr, st := liveTrack(t, srv)
		play(t, tr)
		const n = 4
		got := make([]*received, n)
		for i := range n {
			got[i] = &received{}
			client := offerer(t)
			got[i].attach(client)
			connect(t, srv, client, nil)
		}
		testutil.Eventually(t, 15*time.Second, "audio to every peer", func() bool {
			for _, g := range got {
				if g.n.Load() < 50 {
					return false
				}
			}
			return st.listeners() == n
		})
		var batches, failed int64
		for _, l := range srv.lanes {
			batches += l.conn.batches.Load()
			failed += l.conn.failed.Load()
		}
		if batches == 0 || failed != 0 {
			t.Fatalf("%d sendmmsg calls, %d datagrams refused", batches, failed)
		}
		for i, g := range got {
			if g.gaps.Load() != 0 {
				t.Errorf("peer %d saw %d sequence gaps", i, g.gaps.Load())
			}
		}
	})
}
