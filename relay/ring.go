package relay

import (
	"sync"
	"time"
)

// chunk is a run of whole MP3 frames that the station clock released
// together. Once published it is never modified, so every HTTP listener
// writes the same bytes straight from it: there is one copy of a station's
// stream, however many listen.
type chunk struct {
	seq   uint64
	at    time.Duration // stream time of the first frame
	dur   time.Duration
	data  []byte
	marks []mark // marks[0].off is 0: the title at the chunk's start
	// head is, for Ogg, the header pages of the logical stream in force at
	// the chunk's start: a listener that starts here is sent them first,
	// unless the chunk's data starts with them (headInData).
	head       []byte
	headInData bool
}

// mark says which ICY metadata block describes the audio from off on.
type mark struct {
	off   int
	block []byte
}

// ring holds a station's recent chunks: Icecast's queue design. A writer
// publishes; each listener keeps only a sequence number and reads the chunks
// after it. A listener whose next chunk has left the ring was too slow and
// is dropped; nothing else ever grows with the number of listeners.
type ring struct {
	mu     sync.Mutex
	chunks []*chunk // circular, indexed by seq % len
	next   uint64   // seq the next published chunk gets
	floor  uint64   // chunks before it were dropped by reset
	notify chan struct{}
	closed bool
	// tap, when set, sees each chunk after it is published.
	tap func(*chunk)
}

func newRing(size int) *ring {
	return &ring{chunks: make([]*chunk, size), notify: make(chan struct{})}
}

// publish appends c and wakes every waiting listener.
func (r *ring) publish(c *chunk) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	c.seq = r.next
	r.chunks[c.seq%uint64(len(r.chunks))] = c
	r.next++
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
	if r.tap != nil {
		r.tap(c)
	}
}

// oldest is the seq of the oldest chunk held. The caller holds r.mu.
func (r *ring) oldest() uint64 {
	if r.next < uint64(len(r.chunks)) {
		return r.floor
	}
	return max(r.floor, r.next-uint64(len(r.chunks)))
}

// reset drops every chunk: the encoder stopped, and what it made before is
// no longer recent audio. Sequence numbers go on.
func (r *ring) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.floor = r.next
	clear(r.chunks)
}

// read appends to dst the chunks from seq from on. When there are none yet
// it returns a channel closed at the next publish. ok is false when from has
// already left the ring (the reader fell behind) or the ring is closed.
func (r *ring) read(from uint64, dst []*chunk) (out []*chunk, next uint64, wait <-chan struct{}, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || from < r.oldest() {
		return dst, from, nil, false
	}
	for s := from; s < r.next; s++ {
		dst = append(dst, r.chunks[s%uint64(len(r.chunks))])
	}
	if r.next == from {
		return dst, from, r.notify, true
	}
	return dst, r.next, nil, true
}

// burstStart is the seq a new listener starts from so that it gets at least
// d of recent audio at once, starting on a chunk (and so frame) boundary.
func (r *ring) burstStart(d time.Duration) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var got time.Duration
	s := r.next
	for s > r.oldest() && got < d {
		s--
		got += r.chunks[s%uint64(len(r.chunks))].dur
	}
	return s
}

// lag is how far behind the newest chunk a listener whose next chunk is seq
// is, in stream time.
func (r *ring) lag(seq uint64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var d time.Duration
	for s := max(seq, r.oldest()); s < r.next; s++ {
		d += r.chunks[s%uint64(len(r.chunks))].dur
	}
	return d
}

// close ends the ring: waiting listeners wake and read !ok.
func (r *ring) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.notify)
	}
}

// chunkBuilder collects encoded frames or pages into the next chunk. Only
// the station goroutine uses it.
type chunkBuilder struct {
	cur   *chunk
	block []byte // title block in force
	head  []byte // Ogg header pages in force
	hint  int    // capacity for the next chunk's data
}

// open starts the next chunk when none is being built.
func (b *chunkBuilder) open(at time.Duration) {
	if b.cur == nil {
		b.cur = &chunk{at: at, data: make([]byte, 0, max(b.hint, 4096)), marks: []mark{{block: b.block}}, head: b.head}
	}
}

// grow adds dur of audio whose bytes come later (Ogg packets wait for
// their page).
func (b *chunkBuilder) grow(dur time.Duration) {
	b.open(0)
	b.cur.dur += dur
}

// addPages appends whole Ogg pages.
func (b *chunkBuilder) addPages(p []byte, dur time.Duration) {
	if len(p) == 0 && dur == 0 {
		return
	}
	b.open(0)
	b.cur.data = append(b.cur.data, p...)
	b.cur.dur += dur
}

// startChain begins a new Ogg logical stream whose header pages are head.
// The caller published the chunk before, so the chain starts a chunk.
func (b *chunkBuilder) startChain(head []byte) {
	b.head = head
	b.open(0)
	if len(b.cur.data) == 0 {
		b.cur.head, b.cur.headInData = head, true
	}
	b.cur.data = append(b.cur.data, head...)
}

// setBlock makes block describe the audio added from now on.
func (b *chunkBuilder) setBlock(block []byte) {
	b.block = block
	if b.cur == nil {
		return
	}
	if last := &b.cur.marks[len(b.cur.marks)-1]; last.off == len(b.cur.data) {
		last.block = block
		return
	}
	b.cur.marks = append(b.cur.marks, mark{off: len(b.cur.data), block: block})
}

// add appends one frame released at stream time at.
func (b *chunkBuilder) add(frame []byte, at, dur time.Duration) {
	b.open(at)
	b.cur.data = append(b.cur.data, frame...)
	b.cur.dur += dur
}

// take returns the chunk built so far, or nil when it is empty.
func (b *chunkBuilder) take() *chunk {
	c := b.cur
	b.cur = nil
	if c != nil {
		b.hint = cap(c.data)
		if len(c.data)+len(c.data)/4 > b.hint {
			b.hint = len(c.data) + len(c.data)/4
		}
	}
	return c
}
