package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair"
)

// BenchmarkUserBySession is the lookup behind every authenticated request.
func BenchmarkUserBySession(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "onair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, "bench", "h", onair.RoleListener)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := db.CreateSession(ctx, fmt.Sprintf("h%d", i), u.ID, time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := db.UserBySession(ctx, fmt.Sprintf("h%d", i%1000)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkAddTrack is a write: one IMMEDIATE transaction through the single
// writer connection, with the WAL synced at NORMAL.
func BenchmarkAddTrack(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "onair.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, "bench", "h", onair.RoleOwner)
	if err != nil {
		b.Fatal(err)
	}
	st := &onair.Station{Slug: "b", Name: "B", OwnerID: u.ID}
	if err := db.CreateStation(ctx, st); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		tr := &onair.Track{StationID: st.ID, Title: "t", Path: fmt.Sprintf("%d.mp3", i)}
		if err := db.AddTrack(ctx, tr); err != nil {
			b.Fatal(err)
		}
	}
}
