package cluster

import (
	"reflect"
	"testing"
	"time"
)

func TestFramesRoundTrip(t *testing.T) {
	t.Parallel()
	c := chunkMsg{Epoch: 7, Sent: 9, Seq: 42, At: int64(3 * time.Second), Dur: int64(500 * time.Millisecond),
		Data: []byte("OggS....audio"), Marks: []markMsg{{0, []byte{0}}, {4, []byte{1, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'}}},
		Head: []byte("OggS"), HeadData: true}
	got, err := unmarshalChunk(c.marshal())
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("chunk round trip: %+v, %v", got, err)
	}
	p := packetMsg{Epoch: 7, Sent: 9, At48: 960, Dur: int64(20 * time.Millisecond), Data: []byte{1, 2, 3}}
	gp, err := unmarshalPacket(p.marshal())
	if err != nil || !reflect.DeepEqual(gp, p) {
		t.Fatalf("packet round trip: %+v, %v", gp, err)
	}
	// Every truncation of a frame fails cleanly, never panics.
	full := c.marshal()
	for i := range len(full) - len(c.Data) {
		if _, err := unmarshalChunk(full[:i]); err == nil {
			t.Fatalf("a chunk frame cut at %d of %d was taken", i, len(full))
		}
	}
	if _, err := unmarshalPacket(p.marshal()[:20]); err == nil {
		t.Fatal("a short packet frame was taken")
	}
}

func FuzzUnmarshalChunk(f *testing.F) {
	c := chunkMsg{Seq: 1, Dur: 1, Data: []byte("x"), Marks: []markMsg{{0, []byte{0}}}}
	f.Add(c.marshal())
	f.Add([]byte("oc\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := unmarshalChunk(b)
		if err != nil {
			return
		}
		_, _ = m.chunk() // checks, never panics
	})
}
