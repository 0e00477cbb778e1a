// Package playlist decides what a station plays next: play order, shuffle,
// loop, skip and starting at a given track. It is pure code with no
// goroutines and no I/O, so the station clock can ask it without waiting and
// tests can check every rule directly.
package playlist

import (
	"math/rand/v2"

	"github.com/onairfm/onair"
)

// Queue is one station's play order and its place in it.
//
// The current track is remembered by ID and by index, so the owner can
// reorder, add or delete tracks while the station plays: the playing track
// keeps playing and the next one follows from the new order. A Queue is not
// safe for concurrent use; the station clock owns it.
type Queue struct {
	tracks  []onair.Track
	current int64 // ID of the track playing now, 0 before the first
	index   int   // index of current in tracks when it was chosen
	shuffle bool
	loop    bool
	played  map[int64]bool // shuffle: tracks already played in this pass
	rng     *rand.Rand
}

// New returns a queue over tracks in play order. rng drives shuffle; nil
// uses a randomly seeded source.
func New(tracks []onair.Track, shuffle, loop bool, rng *rand.Rand) *Queue {
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	q := &Queue{shuffle: shuffle, loop: loop, index: -1, rng: rng, played: map[int64]bool{}}
	q.SetTracks(tracks)
	return q
}

// Len is the number of tracks in the queue.
func (q *Queue) Len() int { return len(q.tracks) }

// Tracks returns the play order. The slice must not be modified.
func (q *Queue) Tracks() []onair.Track { return q.tracks }

// Current returns the track playing now.
func (q *Queue) Current() (onair.Track, bool) {
	if i := q.find(q.current); i >= 0 {
		return q.tracks[i], true
	}
	return onair.Track{}, false
}

// Start makes the track with the given ID current; ID 0 (or an unknown ID)
// starts with the first track, or a random one when shuffling. It returns
// false when the queue is empty.
func (q *Queue) Start(id int64) (onair.Track, bool) {
	clear(q.played)
	if i := q.find(id); i >= 0 {
		return q.choose(i), true
	}
	if len(q.tracks) == 0 {
		q.current, q.index = 0, -1
		return onair.Track{}, false
	}
	if q.shuffle {
		return q.choose(q.rng.IntN(len(q.tracks))), true
	}
	return q.choose(0), true
}

// Next advances to the track after the current one and returns it. At the
// end of the order it starts again when looping and returns false when not.
func (q *Queue) Next() (onair.Track, bool) {
	if len(q.tracks) == 0 {
		return onair.Track{}, false
	}
	if q.shuffle {
		return q.nextShuffled()
	}
	// When the current track was deleted, index already points at the
	// track that took its place, which is the one to play next.
	next := max(q.index, 0)
	if i := q.find(q.current); i >= 0 {
		next = i + 1
	}
	if next >= len(q.tracks) {
		if !q.loop {
			return onair.Track{}, false
		}
		next = 0
	}
	return q.choose(next), true
}

func (q *Queue) nextShuffled() (onair.Track, bool) {
	var left []int
	for i, t := range q.tracks {
		if !q.played[t.ID] {
			left = append(left, i)
		}
	}
	if len(left) == 0 {
		if !q.loop {
			return onair.Track{}, false
		}
		clear(q.played)
		for i, t := range q.tracks {
			// A new pass never repeats the track that just ended, unless
			// it is the only one.
			if t.ID != q.current || len(q.tracks) == 1 {
				left = append(left, i)
			}
		}
	}
	return q.choose(left[q.rng.IntN(len(left))]), true
}

// SetTracks replaces the play order (after an upload, a reorder or a
// delete). The current track stays current if it is still there.
func (q *Queue) SetTracks(tracks []onair.Track) {
	q.tracks = append([]onair.Track(nil), tracks...)
	if i := q.find(q.current); i >= 0 {
		q.index = i
	} else if q.index > len(q.tracks) {
		q.index = len(q.tracks)
	}
}

// SetShuffle turns shuffle on or off; a new shuffled pass starts.
func (q *Queue) SetShuffle(on bool) {
	if on != q.shuffle {
		clear(q.played)
		if q.current != 0 {
			q.played[q.current] = true
		}
	}
	q.shuffle = on
}

// SetLoop turns looping at the end of the order on or off.
func (q *Queue) SetLoop(on bool) { q.loop = on }

// Shuffle reports whether the queue shuffles.
func (q *Queue) Shuffle() bool { return q.shuffle }

// Loop reports whether the queue starts again at its end.
func (q *Queue) Loop() bool { return q.loop }

func (q *Queue) choose(i int) onair.Track {
	t := q.tracks[i]
	q.current, q.index = t.ID, i
	q.played[t.ID] = true
	return t
}

func (q *Queue) find(id int64) int {
	if id == 0 {
		return -1
	}
	for i, t := range q.tracks {
		if t.ID == id {
			return i
		}
	}
	return -1
}
