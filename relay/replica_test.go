package relay

import (
	"bufio"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/relay/icy"
)

// fakeNodes is another node that wants some outputs and has listeners.
type fakeNodes struct {
	want  [3]bool
	count onair.Listeners
}

func (f *fakeNodes) Wants(_ string, out Output) bool  { return f.want[out] }
func (f *fakeNodes) Listeners(string) onair.Listeners { return f.count }

// chunkTap keeps the MP3 chunks a station makes.
type chunkTap struct {
	mu     sync.Mutex
	chunks []Chunk
}

func (c *chunkTap) Chunk(_ string, out Output, ch Chunk) {
	if out != OutputMP3 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chunks = append(c.chunks, ch)
}

func (c *chunkTap) Packet(string, []byte, int64, time.Duration) {}

func (c *chunkTap) take() []Chunk {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.chunks
	c.chunks = nil
	return out
}

// TestReplicaServesTheOriginsChunks: another node's demand makes a
// station encode with no listener of its own, its chunks are tapped, and
// a replica fed with them gives its HTTP listener the same audio with the
// same ICY title; the other node's listeners count in the station's.
func TestReplicaServesTheOriginsChunks(t *testing.T) {
	t.Parallel()
	tap := &chunkTap{}
	nodes := &fakeNodes{want: [3]bool{true, false, false}, count: onair.Listeners{HTTP: 3}}
	origin := &Relay{Tap: tap, Nodes: nodes}
	liveRelay(t, origin, "tone440.mp3")
	testutil.Eventually(t, 10*time.Second, "tapped chunks with no local listener", func() bool {
		tap.mu.Lock()
		defer tap.mu.Unlock()
		return len(tap.chunks) >= 2
	})
	if l := origin.Status("test").Listeners; l.HTTP != 3 {
		t.Fatalf("origin counts %+v, want the other node's 3", l)
	}

	edge := &Relay{}
	defer edge.Close()
	st := origin.Status("test")
	if err := edge.StartReplica(Replica{Info: StationInfo{Slug: "test", Name: "Test FM"}, StartedAt: st.StartedAt, NowPlaying: st.NowPlaying}); err != nil {
		t.Fatal(err)
	}
	if err := edge.Skip("test"); !errors.Is(err, ErrReplica) {
		t.Fatalf("skip on a replica: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(edge.ServeStream))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/stream/test", nil)
	req.Header.Set("Icy-MetaData", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	testutil.Eventually(t, 5*time.Second, "the replica's listener", func() bool {
		d, _ := edge.LocalDemand("test")
		return d.MP3 == 1
	})
	// Chunks fed before a listener would be stale: a replica takes only
	// those that come while someone listens.
	tap.take()
	var fed int
	testutil.Eventually(t, 10*time.Second, "4 chunks fed", func() bool {
		for _, c := range tap.take() {
			if err := edge.Feed("test", OutputMP3, c); err != nil {
				t.Fatal(err)
			}
			fed++
		}
		return fed >= 4
	})
	rd := icy.NewReader(bufio.NewReader(resp.Body), Metaint, func(icy.Meta) {})
	buf := make([]byte, 20000)
	for got := 0; got < 20000; {
		n, err := rd.Read(buf[got:])
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if title := rd.Title(); title != "Test Artist - Tone 440" {
		t.Fatalf("replica title %q", title)
	}
	if err := edge.Feed("test", OutputMP3, Chunk{Dur: time.Second, Data: []byte{1}}); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("a chunk with no marks: %v", err)
	}
	if err := origin.Feed("test", OutputMP3, Chunk{}); !errors.Is(err, ErrNotReplica) {
		t.Fatalf("feeding a station played here: %v", err)
	}
}
