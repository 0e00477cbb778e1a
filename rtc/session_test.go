package rtc

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

// A peer's listening session starts when it connects and ends when it
// closes, with the User-Agent its context carried.
func TestOnSession(t *testing.T) {
	transports(t, func(t *testing.T, pion bool) {
		var mu sync.Mutex
		var got []onair.ListenSession
		srv := &Server{PionPeers: pion, LoopbackOnly: true, OnSession: func(ls onair.ListenSession) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, ls)
		}}
		tr, _ := liveTrack(t, srv)
		play(t, tr)
		sessions := func() []onair.ListenSession {
			mu.Lock()
			defer mu.Unlock()
			return append([]onair.ListenSession(nil), got...)
		}
		client := offerer(t)
		ctx := onair.WithUserAgent(context.Background(), "Mozilla/5.0 Firefox/128.0")
		p, _ := connectWith(t, ctx, srv, client, nil)
		testutil.Eventually(t, 10*time.Second, "the session to start once connected", func() bool { return len(sessions()) == 1 })
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, "the session to end", func() bool { return len(sessions()) == 2 })
		all := sessions()
		start, end := all[0], all[1]
		if start.ID == 0 || start.ID != end.ID || start.Station != "s" || start.Transport != onair.TransportWebRTC || start.UserAgent != "Mozilla/5.0 Firefox/128.0" {
			t.Errorf("start %+v, end %+v", start, end)
		}
		if !start.End.IsZero() || !end.End.After(end.Start) || !end.Start.Equal(start.Start) {
			t.Errorf("start %+v / end %+v: want an open start and an end after it", start, end)
		}
	})
}
