package limit

import (
	"fmt"
	"testing"
	"time"
)

func TestRate(t *testing.T) {
	l := NewRate[string](1, 2)
	now := time.Unix(1000, 0)
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.Allow("a", now); ok != want {
			t.Fatalf("call %d: allow %v, want %v", i, ok, want)
		}
	}
	if ok, wait := l.Allow("a", now); ok || wait <= 0 || wait > time.Second {
		t.Fatalf("exhausted: %v, wait %v", ok, wait)
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Fatal("other key limited")
	}
	if ok, _ := l.Allow("a", now.Add(time.Second)); !ok {
		t.Fatal("not refilled after 1 s")
	}
	l.Sweep(now.Add(time.Hour))
	if n := l.Len(); n != 0 {
		t.Fatalf("%d buckets after sweep", n)
	}
}

func TestOpen(t *testing.T) {
	o := &Open[string]{Max: 2}
	r1, ok1 := o.Acquire("x")
	_, ok2 := o.Acquire("x")
	_, ok3 := o.Acquire("x")
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("acquire: %v %v %v", ok1, ok2, ok3)
	}
	if _, ok := o.Acquire("y"); !ok {
		t.Fatal("other key refused")
	}
	r1()
	r1() // twice is harmless
	if n := o.Count("x"); n != 1 {
		t.Fatalf("count %d after one release, want 1", n)
	}
	if _, ok := o.Acquire("x"); !ok {
		t.Fatal("refused after release")
	}
	unlimited := &Open[int]{}
	for range 100 {
		if _, ok := unlimited.Acquire(1); !ok {
			t.Fatal("Max 0 refused")
		}
	}
}

func TestRateForgetsIdleKeys(t *testing.T) {
	l := NewRate[string](10.0/60, 10)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("%d buckets, want 1000", n)
	}
	// Half a refill later the buckets are not full yet: they stay.
	l.Allow("busy", now.Add(l.refill/2))
	if n := l.Len(); n != 1001 {
		t.Fatalf("%d buckets after half a refill, want 1001", n)
	}
	// A full refill after their last use they are dropped; the busy one,
	// used since, stays.
	l.Allow("late", now.Add(l.refill))
	if n := l.Len(); n != 2 {
		t.Fatalf("%d buckets after a full refill, want 2 (busy, late)", n)
	}
}
