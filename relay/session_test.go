package relay

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
)

// sessions collects what Relay.OnSession is told.
type sessions struct {
	mu  sync.Mutex
	all []onair.ListenSession
}

func (s *sessions) add(ls onair.ListenSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, ls)
}

func (s *sessions) get() []onair.ListenSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]onair.ListenSession(nil), s.all...)
}

// checkPair wants a start then an end of one session, as described.
func checkPair(t *testing.T, got []onair.ListenSession, transport, ua string) {
	t.Helper()
	if len(got) != 2 {
		t.Fatalf("sessions reported: %+v, want a start and an end", got)
	}
	start, end := got[0], got[1]
	if start.ID == 0 || start.ID != end.ID || start.Station == "" || start.Transport != transport || start.UserAgent != ua {
		t.Errorf("start %+v / end %+v: want one ID, transport %s, user agent %q", start, end, transport, ua)
	}
	if !start.End.IsZero() || !end.End.After(end.Start) || !end.Start.Equal(start.Start) {
		t.Errorf("start %+v / end %+v: want an open start and an end after it", start, end)
	}
}

func TestOnSessionHTTP(t *testing.T) {
	var got sessions
	r := &Relay{ChunkDuration: 100 * time.Millisecond, OnSession: got.add}
	srv := liveRelay(t, r, "tone440.mp3")
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stream/test", nil)
	req.Header.Set("User-Agent", "VLC/3.0.20 LibVLC/3.0.20")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the session to start", func() bool { return len(got.get()) == 1 })
	cancel()
	resp.Body.Close()
	testutil.Eventually(t, 10*time.Second, "the session to end", func() bool { return len(got.get()) == 2 })
	checkPair(t, got.get(), onair.TransportHTTP, "VLC/3.0.20 LibVLC/3.0.20")
}
