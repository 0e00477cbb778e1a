package load

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/client"
)

func TestNaiveServesWebRTCListeners(t *testing.T) {
	n, err := NewNaive(60 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	defer ccancel()
	var ls []*client.Listener
	for range 3 {
		sock, err := client.Dial(cctx, "ws://"+ln.Addr().String()+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sock.Close()
		l, err := client.ListenWebRTC(cctx, sock, "any", client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ls = append(ls, l)
	}
	if _, err := NewNaive(30 * time.Millisecond); err == nil {
		t.Error("a 30 ms packet was taken")
	}
	for _, l := range ls {
		for l.Packets() < 10 {
			select {
			case <-cctx.Done():
				t.Fatalf("a listener got %d packets", l.Packets())
			case <-time.After(20 * time.Millisecond):
			}
		}
		if d := l.PacketDuration(); d != 60*time.Millisecond {
			t.Errorf("packets of %v, want the 60 ms asked for", d)
		}
	}
}
