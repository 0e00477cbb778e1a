package playlist

import (
	"math/rand/v2"
	"testing"

	"github.com/onairfm/onair"
)

func tracks(ids ...int64) []onair.Track {
	ts := make([]onair.Track, len(ids))
	for i, id := range ids {
		ts[i] = onair.Track{ID: id}
	}
	return ts
}

// play starts q at start and returns the IDs of the first n tracks it plays,
// 0 where the queue ended.
func play(q *Queue, start int64, n int) []int64 {
	var out []int64
	t, ok := q.Start(start)
	for range n {
		if !ok {
			out = append(out, 0)
			t, ok = q.Next()
			continue
		}
		out = append(out, t.ID)
		t, ok = q.Next()
	}
	return out
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name  string
		ids   []int64
		loop  bool
		start int64
		want  []int64
	}{
		{"loop", []int64{1, 2, 3}, true, 0, []int64{1, 2, 3, 1, 2}},
		{"no loop ends", []int64{1, 2, 3}, false, 0, []int64{1, 2, 3, 0}},
		{"start at track", []int64{1, 2, 3}, true, 2, []int64{2, 3, 1}},
		{"unknown start is first", []int64{1, 2, 3}, true, 99, []int64{1, 2}},
		{"single loops", []int64{7}, true, 0, []int64{7, 7, 7}},
		{"empty", nil, true, 0, []int64{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := play(New(tracks(tt.ids...), false, tt.loop, nil), tt.start, len(tt.want))
			if !equal(got, tt.want) {
				t.Fatalf("played %v, want %v", got, tt.want)
			}
		})
	}
}

func TestShufflePlaysEachOncePerPass(t *testing.T) {
	q := New(tracks(1, 2, 3, 4, 5), true, true, rand.New(rand.NewPCG(1, 2)))
	got := play(q, 0, 15)
	for pass := range 3 {
		seen := map[int64]bool{}
		for _, id := range got[pass*5 : pass*5+5] {
			if seen[id] {
				t.Fatalf("pass %d repeats %d: %v", pass, id, got)
			}
			seen[id] = true
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("track %d played twice in a row: %v", got[i], got)
		}
	}
	if equal(got[:5], []int64{1, 2, 3, 4, 5}) && equal(got[5:10], []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("shuffle kept the order: %v", got)
	}
}

func TestShuffleWithoutLoopEnds(t *testing.T) {
	got := play(New(tracks(1, 2, 3), true, false, rand.New(rand.NewPCG(3, 4))), 0, 4)
	if got[3] != 0 {
		t.Fatalf("played %v, want the end after 3 tracks", got)
	}
}

func TestEditsWhilePlaying(t *testing.T) {
	q := New(tracks(1, 2, 3, 4), false, true, nil)
	q.Start(2)

	// Reorder: 2 keeps playing, next follows the new order.
	q.SetTracks(tracks(4, 2, 1, 3))
	if cur, _ := q.Current(); cur.ID != 2 {
		t.Fatalf("current after reorder = %d, want 2", cur.ID)
	}
	if n, _ := q.Next(); n.ID != 1 {
		t.Fatalf("next after reorder = %d, want 1", n.ID)
	}

	// Delete the playing track: the one that took its place is next.
	q.SetTracks(tracks(4, 2, 3))
	if _, ok := q.Current(); ok {
		t.Fatal("deleted track is still current")
	}
	if n, _ := q.Next(); n.ID != 3 {
		t.Fatalf("next after deleting the current track = %d, want 3", n.ID)
	}

	// Delete the last track while it plays: wrap to the first.
	q.SetTracks(tracks(4, 2))
	if n, _ := q.Next(); n.ID != 4 {
		t.Fatalf("next after deleting the last playing track = %d, want 4", n.ID)
	}

	// Append while playing.
	q.SetTracks(tracks(4, 2, 9))
	q.Next()
	if n, _ := q.Next(); n.ID != 9 {
		t.Fatalf("appended track not reached, got %d", n.ID)
	}

	// Delete everything.
	q.SetTracks(nil)
	if _, ok := q.Next(); ok {
		t.Fatal("empty queue gave a track")
	}
}

func TestToggleShuffleAndLoop(t *testing.T) {
	q := New(tracks(1, 2), false, true, nil)
	q.Start(2)
	q.SetLoop(false)
	if _, ok := q.Next(); ok {
		t.Fatal("loop off at the end still gave a track")
	}
	q.SetLoop(true)
	q.SetShuffle(true)
	q.Start(1)
	if n, _ := q.Next(); n.ID != 2 {
		t.Fatalf("shuffle of two after 1 gave %d, want 2", n.ID)
	}
	if !q.Shuffle() || !q.Loop() {
		t.Fatal("flags not kept")
	}
}
