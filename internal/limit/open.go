package limit

import "sync"

// Open counts what each key holds open at once (sockets, streams) and
// refuses more than Max. A key at zero is forgotten, so memory follows
// the keys that hold something open. The zero Open refuses nothing until
// Max is set; Max <= 0 means no limit.
type Open[K comparable] struct {
	Max int

	mu sync.Mutex
	n  map[K]int
}

// Acquire takes one slot for key. When key already holds Max it returns
// false; otherwise true and a release function, which must be called once
// when the slot is given back (more calls are harmless).
func (o *Open[K]) Acquire(key K) (release func(), ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = make(map[K]int)
	}
	if o.Max > 0 && o.n[key] >= o.Max {
		return func() {}, false
	}
	o.n[key]++
	var once sync.Once
	return func() { once.Do(func() { o.release(key) }) }, true
}

func (o *Open[K]) release(key K) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n[key] <= 1 {
		delete(o.n, key)
		return
	}
	o.n[key]--
}

// Count is what key holds open now.
func (o *Open[K]) Count(key K) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[key]
}

// Keys is how many keys hold something open.
func (o *Open[K]) Keys() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.n)
}
