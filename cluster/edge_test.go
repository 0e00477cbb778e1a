package cluster

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/onairfm/onair/internal/testutil"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/relay/icy"
)

// TestEdgeTakesOnlyGoodChunksInOrder plays an origin by hand: an edge
// node's replica gets the station from a state message, and of the chunks
// published for its listener only the valid ones of the right run, in
// order, reach it; the rest are dropped and counted.
func TestEdgeTakesOnlyGoodChunksInOrder(t *testing.T) {
	emb, err := StartEmbedded("127.0.0.1:0", t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	rel := &relay.Relay{}
	defer rel.Close()
	edge := &Node{Name: "e", Role: RoleEdge, URL: emb.URL(), Relay: rel, Heartbeat: 100 * time.Millisecond}
	rel.Nodes = edge.Nodes()
	if err := edge.Start(); err != nil {
		t.Fatal(err)
	}
	defer edge.Close()
	nc, err := nats.Connect(emb.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pub := func(subj string, v any) {
		b, _ := json.Marshal(v)
		if err := nc.Publish(subj, b); err != nil {
			t.Fatal(err)
		}
	}
	started := time.Unix(1700000000, 0)
	pub(subjState, stateMsg{Node: "o", Stations: []stationMsg{{Slug: "jazz", Name: "Jazz", StartedAt: started}}})
	testutil.Eventually(t, 5*time.Second, "the replica", func() bool { return slices.Contains(rel.Live(), "jazz") })

	srv := httptest.NewServer(http.HandlerFunc(rel.ServeStream))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/stream/jazz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The edge follows the mount once its listener is counted.
	testutil.Eventually(t, 5*time.Second, "the edge to follow the mount", func() bool {
		edge.edge.mu.Lock()
		f := edge.edge.feeds["jazz"]
		edge.edge.mu.Unlock()
		f.mount[0].mu.Lock()
		defer f.mount[0].mu.Unlock()
		return f.mount[0].sub != nil && !f.mount[0].bursting
	})
	dropped := edge.stats.dropped.Load()
	chunk := func(seq uint64, epoch int64, fill byte) chunkMsg {
		return chunkMsg{Epoch: epoch, Seq: seq, Dur: int64(time.Second), Data: bytes.Repeat([]byte{fill}, 10),
			Marks: []markMsg{{Off: 0, Block: icy.Block("")}}}
	}
	e := started.UnixNano()
	subj := stationSubject("jazz", "mp3")
	frame := func(m chunkMsg) {
		if err := nc.Publish(subj, m.marshal()); err != nil {
			t.Fatal(err)
		}
	}
	frame(chunk(5, e, 'a'))
	frame(chunk(3, e, 'x'))                                                        // older than the last: dropped
	frame(chunk(6, e+1, 'y'))                                                      // another run of the station: dropped
	frame(chunkMsg{Epoch: e, Seq: 7, Dur: int64(time.Second), Data: []byte("zz")}) // no marks: dropped
	nc.Publish(subj, []byte("not a frame"))
	frame(chunk(6, e, 'b'))
	got := make([]byte, 20)
	if _, err := io.ReadFull(resp.Body, got); err != nil {
		t.Fatal(err)
	}
	if want := string(bytes.Repeat([]byte("a"), 10)) + string(bytes.Repeat([]byte("b"), 10)); string(got) != want {
		t.Fatalf("listener got %q, want %q", got, want)
	}
	testutil.Eventually(t, 5*time.Second, "the bad chunks to be counted", func() bool { return edge.stats.dropped.Load()-dropped >= 4 })

	// The listener counts in the edge's heartbeat.
	hbs, _ := nc.SubscribeSync(subjNodes)
	m, err := hbs.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var hb heartbeat
	json.Unmarshal(m.Data, &hb)
	if hb.Node != "e" || hb.Stations["jazz"].MP3 != 1 || hb.Stations["jazz"].HTTP != 1 {
		t.Fatalf("heartbeat %s", m.Data)
	}

	// The origin's state without the station takes the replica off air.
	pub(subjState, stateMsg{Node: "o", Stations: []stationMsg{}})
	testutil.Eventually(t, 5*time.Second, "the replica to go", func() bool { return len(rel.Live()) == 0 })
}
