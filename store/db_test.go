package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onairfm/onair"
)

// newDB opens a fresh database in a temporary directory, closed when the
// test ends.
func newDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// wantCode fails the test unless err carries code.
func wantCode(t *testing.T, err error, code onair.Code) {
	t.Helper()
	if got := onair.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

func mustUser(t *testing.T, db *DB, name string, role onair.Role) *onair.User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), name, "hash-of-"+name, role)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func mustStation(t *testing.T, db *DB, slug, name string, owner *onair.User) *onair.Station {
	t.Helper()
	st := &onair.Station{Slug: slug, Name: name, OwnerID: owner.ID}
	if err := db.CreateStation(context.Background(), st); err != nil {
		t.Fatalf("CreateStation(%q): %v", slug, err)
	}
	return st
}

func mustTrack(t *testing.T, db *DB, stationID int64, title string) onair.Track {
	t.Helper()
	tr := onair.Track{StationID: stationID, Title: title, Path: fmt.Sprintf("%d-%s.mp3", stationID, title)}
	if err := db.AddTrack(context.Background(), &tr); err != nil {
		t.Fatalf("AddTrack(%q): %v", title, err)
	}
	return tr
}

func TestOpenSetsPragmas(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
		{"busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
	} {
		var got string
		if err := db.write.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("write pool: PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
		if err := db.read.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("read pool: PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	// The read pool must refuse writes, so a write routed there by mistake
	// fails loudly instead of racing the writer.
	if _, err := db.read.ExecContext(ctx, `DELETE FROM users`); err == nil {
		t.Error("read pool accepted a write")
	}
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "onair.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := mustUser(t, db, "keeper", onair.RoleOwner)
	st := mustStation(t, db, "keep", "Keep", u)
	mustTrack(t, db, st.ID, "one")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for i := range 2 { // twice: the second reopen sees an already-current schema too
		db, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		got, _, err := db.UserByUsername(ctx, "keeper")
		if err != nil || got.ID != u.ID {
			t.Fatalf("reopen %d: user = %+v, %v; want id %d", i, got, err, u.ID)
		}
		ts, err := db.Tracks(ctx, st.ID)
		if err != nil || len(ts) != 1 {
			t.Fatalf("reopen %d: tracks = %v, %v; want 1", i, ts, err)
		}
		ms, err := loadMigrations(migrationFS)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(ms) {
			t.Errorf("reopen %d: %d migrations recorded, want %d", i, n, len(ms))
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	mustUser(t, db, "stay", onair.RoleListener)
	if err := migrate(ctx, db.write); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if _, _, err := db.UserByUsername(ctx, "stay"); err != nil {
		t.Fatalf("user lost after second migrate: %v", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	t.Run("ordered numerically", func(t *testing.T) {
		ms, err := loadMigrations(fstest.MapFS{
			"migrations/10_c.sql":   file("c"),
			"migrations/2_b.sql":    file("b"),
			"migrations/0001_a.sql": file("a"),
			"migrations/README":     file("not sql"),
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, m := range ms {
			got = append(got, m.version)
		}
		if fmt.Sprint(got) != "[1 2 10]" {
			t.Errorf("versions = %v, want [1 2 10]", got)
		}
		if ms[0].sql != "a" || ms[0].name != "0001_a.sql" {
			t.Errorf("first = %+v", ms[0])
		}
	})
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
	}{
		{"no number", fstest.MapFS{"migrations/init.sql": file("")}},
		{"no underscore", fstest.MapFS{"migrations/0001.sql": file("")}},
		{"zero", fstest.MapFS{"migrations/0000_x.sql": file("")}},
		{"duplicate", fstest.MapFS{"migrations/1_a.sql": file(""), "migrations/0001_b.sql": file("")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadMigrations(tc.fs); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations = %d, first %+v", len(ms), ms)
	}
}

func TestOpenPathWithQueryCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd?name#dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "onair.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at %s: %v", path, err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "onair.db")
	if _, err := Open(context.Background(), missing); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}

func TestNowIsInjected(t *testing.T) {
	db := newDB(t)
	at := time.Date(2030, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("X", 3600))
	db.Now = func() time.Time { return at }
	u := mustUser(t, db, "timed", onair.RoleOwner)
	want := time.Date(2030, 1, 2, 2, 4, 5, 678_000_000, time.UTC) // UTC, milliseconds
	if !u.CreatedAt.Equal(want) || u.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v", u.CreatedAt, want)
	}
	got, err := db.UserByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != u.CreatedAt {
		t.Errorf("reread CreatedAt = %v, want %v", got.CreatedAt, u.CreatedAt)
	}
}

// TestConcurrentWrites drives 20 writers at once, with readers alongside:
// none may fail with SQLITE_BUSY, and every write must land.
func TestConcurrentWrites(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	owner := mustUser(t, db, "owner", onair.RoleOwner)
	shared := mustStation(t, db, "shared", "Shared", owner)

	const workers, tracksEach = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := db.CreateUser(ctx, fmt.Sprintf("user%02d", w), "h", onair.RoleOwner)
			if err != nil {
				errs <- err
				return
			}
			st := &onair.Station{Slug: fmt.Sprintf("st%02d", w), Name: "S", OwnerID: u.ID}
			if err := db.CreateStation(ctx, st); err != nil {
				errs <- err
				return
			}
			for i := range tracksEach {
				tr := &onair.Track{StationID: shared.ID, Path: fmt.Sprintf("w%d-%d.mp3", w, i)}
				if err := db.AddTrack(ctx, tr); err != nil {
					errs <- err
					return
				}
				if _, err := db.AddLike(ctx, "shared"); err != nil {
					errs <- err
					return
				}
				if _, err := db.Stations(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	ts, err := db.Tracks(ctx, shared.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != workers*tracksEach {
		t.Fatalf("%d tracks, want %d", len(ts), workers*tracksEach)
	}
	for i, tr := range ts {
		if tr.Position != i {
			t.Fatalf("track %d has position %d: concurrent appends collided", i, tr.Position)
		}
	}
	if n, err := db.Likes(ctx, "shared"); err != nil || n != workers*tracksEach {
		t.Errorf("likes = %d, %v; want %d", n, err, workers*tracksEach)
	}
	sts, err := db.Stations(ctx)
	if err != nil || len(sts) != workers+1 {
		t.Errorf("stations = %d, %v; want %d", len(sts), err, workers+1)
	}
}

// TestTwoHandlesOneFile is two processes sharing the database: their
// writers contend for SQLite's lock, and busy_timeout with IMMEDIATE
// transactions must make them wait rather than fail.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "onair.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer db.Close()
		dbs[i] = db
	}
	owner := mustUser(t, dbs[0], "owner", onair.RoleOwner)
	st := mustStation(t, dbs[0], "shared", "Shared", owner)

	const workers, each = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := dbs[w%2]
			for i := range each {
				tr := &onair.Track{StationID: st.ID, Path: fmt.Sprintf("w%d-%d.mp3", w, i)}
				if err := db.AddTrack(ctx, tr); err != nil {
					errs <- err
					return
				}
				if err := reverseOrder(ctx, db, st.ID); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ts, err := dbs[1].Tracks(ctx, st.ID)
	if err != nil || len(ts) != workers*each {
		t.Fatalf("tracks = %d, %v; want %d", len(ts), err, workers*each)
	}
	for i, tr := range ts {
		if tr.Position != i {
			t.Fatalf("track %d has position %d", i, tr.Position)
		}
	}
}

// reverseOrder reads the order and writes it back reversed: a
// read-then-write racing the other writers.
func reverseOrder(ctx context.Context, db *DB, stationID int64) error {
	ts, err := db.Tracks(ctx, stationID)
	if err != nil {
		return err
	}
	ids := make([]int64, len(ts))
	for i, tr := range ts {
		ids[len(ts)-1-i] = tr.ID
	}
	err = db.SetOrder(ctx, stationID, ids)
	if onair.ErrorCode(err) == onair.EInvalid {
		return nil // another writer added a track in between: a correct refusal
	}
	return err
}
