package control

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/ingest"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/relay"
	"github.com/onairfm/onair/store"
)

type env struct {
	svc                           *Service
	db                            *store.DB
	media                         string
	admin, owner, other, listener *onair.User
	station                       *onair.Station
	tracks                        []onair.Track
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	media := filepath.Join(dir, "media")
	os.Mkdir(media, 0o755)
	r := &relay.Relay{MediaDir: media, ChunkDuration: 100 * time.Millisecond}
	e := &env{db: db, media: media}
	e.svc = &Service{Store: db, Relay: r, Ingest: &ingest.Ingester{MediaDir: media}}
	r.Publisher = e.svc
	t.Cleanup(func() {
		r.Close()
		db.Close()
	})
	user := func(name string, role onair.Role) *onair.User {
		u, err := db.CreateUser(ctx, name, "x", role)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.admin, e.owner, e.other, e.listener = user("admin", onair.RoleAdmin), user("owner", onair.RoleOwner), user("other", onair.RoleOwner), user("listener", onair.RoleListener)
	e.station, err = e.svc.CreateStation(ctx, e.owner, NewStation{Name: "Test FM"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tone440.mp3", "tone880.mp3"} {
		tr, err := e.svc.AddTrack(ctx, e.station, name, bytes.NewReader(audiotest.Fixture(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		e.tracks = append(e.tracks, tr)
	}
	return e
}

func wantCode(t *testing.T, err error, code onair.Code) {
	t.Helper()
	if got := onair.ErrorCode(err); got != code {
		t.Fatalf("got %v (%v), want %s", got, err, code)
	}
}

// snapshot is everything an owner action could change.
type snapshot struct {
	station onair.Station
	tracks  []onair.Track
	live    bool
	title   string
	files   int
}

func (e *env) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	st, err := e.db.StationBySlug(ctx, e.station.Slug)
	if err != nil {
		t.Fatal(err)
	}
	tracks, _ := e.db.Tracks(ctx, st.ID)
	status := e.svc.Status(st.Slug)
	title := ""
	if status.NowPlaying != nil {
		title = status.NowPlaying.Title
	}
	files, _ := os.ReadDir(e.media)
	st.CurrentTrackID = 0 // moves with playout, not with the action
	return snapshot{*st, tracks, status.Live, title, len(files)}
}

func TestOwnerActionsAuthorization(t *testing.T) {
	str := func(s string) *string { return &s }
	yes := true
	actions := []struct {
		name string
		do   func(e *env, u *onair.User) error
	}{
		{"start", func(e *env, u *onair.User) error {
			return e.svc.StartStation(context.Background(), u, e.station.Slug, 0)
		}},
		{"stop", func(e *env, u *onair.User) error { return e.svc.StopStation(context.Background(), u, e.station.Slug) }},
		{"skip", func(e *env, u *onair.User) error { return e.svc.Skip(context.Background(), u, e.station.Slug) }},
		{"metadata", func(e *env, u *onair.User) error {
			return e.svc.UpdateMetadata(context.Background(), u, e.station.Slug, onair.MetadataUpdate{Title: str("X"), Show: str("S")})
		}},
		{"update", func(e *env, u *onair.User) error {
			_, err := e.svc.UpdateStation(context.Background(), u, e.station.Slug, StationPatch{Name: str("New"), Shuffle: &yes})
			return err
		}},
		{"upload", func(e *env, u *onair.User) error {
			_, err := e.svc.CanUpload(context.Background(), u, e.station.Slug)
			return err
		}},
		{"order", func(e *env, u *onair.User) error {
			_, err := e.svc.SetOrder(context.Background(), u, e.station.Slug, []int64{e.tracks[1].ID, e.tracks[0].ID})
			return err
		}},
		{"delete track", func(e *env, u *onair.User) error {
			return e.svc.DeleteTrack(context.Background(), u, e.station.Slug, e.tracks[0].ID)
		}},
		{"delete station", func(e *env, u *onair.User) error { return e.svc.DeleteStation(context.Background(), u, e.station.Slug) }},
	}
	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			e := newEnv(t)
			// Live, so that stop, skip and metadata have something to change.
			if err := e.svc.StartStation(context.Background(), e.owner, e.station.Slug, 0); err != nil {
				t.Fatal(err)
			}
			before := e.snapshot(t)
			for _, c := range []struct {
				who  string
				u    *onair.User
				code onair.Code
			}{{"anonymous", nil, onair.EUnauthorized}, {"listener", e.listener, onair.EForbidden}, {"other owner", e.other, onair.EForbidden}} {
				wantCode(t, a.do(e, c.u), c.code)
				after := e.snapshot(t)
				if !equalSnapshots(before, after) {
					t.Fatalf("%s was refused but the station changed:\n%+v\n%+v", c.who, before, after)
				}
			}
			for _, u := range []*onair.User{e.owner, e.admin} {
				if a.name == "delete station" && u == e.admin {
					continue // gone already
				}
				if a.name == "delete track" && u == e.admin {
					wantCode(t, a.do(e, u), onair.ENotFound) // the owner deleted it
					continue
				}
				if err := a.do(e, u); err != nil {
					t.Fatalf("%s: %v", u.Username, err)
				}
			}
		})
	}
}

func equalSnapshots(a, b snapshot) bool {
	if a.station != b.station || a.live != b.live || a.title != b.title || a.files != b.files || len(a.tracks) != len(b.tracks) {
		return false
	}
	for i := range a.tracks {
		if a.tracks[i].ID != b.tracks[i].ID {
			return false
		}
	}
	return true
}

func TestUnknownStation(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.svc.StartStation(context.Background(), e.admin, "nope", 0), onair.ENotFound)
	wantCode(t, e.svc.StartStation(context.Background(), e.owner, e.station.Slug, 9999), onair.ENotFound)
	wantCode(t, e.svc.Skip(context.Background(), e.owner, e.station.Slug), onair.EConflict)
}

func TestStartNeedsTracks(t *testing.T) {
	e := newEnv(t)
	st, err := e.svc.CreateStation(context.Background(), e.owner, NewStation{Name: "Empty"})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.StartStation(context.Background(), e.owner, st.Slug, 0), onair.EConflict)
}

func TestSlugs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct{ name, slug, want string }{
		{"Test FM", "", "test-fm-2"},
		{"Test FM", "", "test-fm-3"},
		{"  Ünïcode Radio!! ", "", "n-code-radio"},
		{"!!!", "", "station"},
		{"Mine", "My-Slug", "my-slug"},
	} {
		st, err := e.svc.CreateStation(ctx, e.owner, NewStation{Name: c.name, Slug: c.slug})
		if err != nil {
			t.Fatalf("%q: %v", c.name, err)
		}
		if st.Slug != c.want {
			t.Errorf("%q → %q, want %q", c.name, st.Slug, c.want)
		}
	}
	_, err := e.svc.CreateStation(ctx, e.owner, NewStation{Name: "X", Slug: "my-slug"})
	wantCode(t, err, onair.EConflict)
	for _, bad := range []string{"a b", "-x", "x-", "a/b", "../x", "x.mp3"} {
		_, err := e.svc.CreateStation(ctx, e.owner, NewStation{Name: "X", Slug: bad})
		wantCode(t, err, onair.EInvalid)
	}
	_, err = e.svc.CreateStation(ctx, e.owner, NewStation{Name: " "})
	wantCode(t, err, onair.EInvalid)
	_, err = e.svc.CreateStation(ctx, e.listener, NewStation{Name: "L"})
	wantCode(t, err, onair.EForbidden)
}

func TestStateSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.svc.Run(ctx)
	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, e.tracks[1].ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := e.db.StationBySlug(ctx, e.station.Slug)
		if st.Live && st.CurrentTrackID == e.tracks[1].ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state not saved: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The server goes down: the relay closes without announcing a stop.
	e.svc.Relay.Close()

	r2 := &relay.Relay{MediaDir: e.media}
	defer r2.Close()
	svc2 := &Service{Store: e.db, Relay: r2, Ingest: e.svc.Ingest}
	if err := svc2.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	status := r2.Status(e.station.Slug)
	if !status.Live || status.NowPlaying.TrackID != e.tracks[1].ID {
		t.Fatalf("after restart: %+v", status)
	}
}

func TestStationThatRunsOutIsSavedOffAir(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.svc.Run(ctx)
	st, _ := e.svc.CreateStation(ctx, e.owner, NewStation{Name: "Short"})
	if _, err := e.svc.AddTrack(ctx, st, "short.mp3", bytes.NewReader(audiotest.Fixture(t, "untagged.mp3"))); err != nil {
		t.Fatal(err)
	}
	no := false
	if _, err := e.svc.UpdateStation(ctx, e.owner, st.Slug, StationPatch{Loop: &no}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.StartStation(ctx, e.owner, st.Slug, 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, _ := e.db.StationBySlug(ctx, st.Slug)
		if !got.Live && !e.svc.Status(st.Slug).Live {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a 3 s track without loop is still live after 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAddTrackLeavesNothingWhenTheRowFails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	gone := &onair.Station{ID: 9999, Slug: "gone"}
	_, err := e.svc.AddTrack(ctx, gone, "x.mp3", bytes.NewReader(audiotest.Fixture(t, "tone440.mp3")))
	if err == nil {
		t.Fatal("added a track to a station that does not exist")
	}
	files, _ := os.ReadDir(e.media)
	if len(files) != 2 {
		t.Fatalf("%d files in the media dir, want the 2 from setup", len(files))
	}
}

func TestDeletePlayingTrackMovesOnAndLastStops(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteTrack(ctx, e.owner, e.station.Slug, e.tracks[0].ID); err != nil {
		t.Fatal(err)
	}
	if np := e.svc.Status(e.station.Slug).NowPlaying; np == nil || np.TrackID != e.tracks[1].ID {
		t.Fatalf("after deleting the playing track: %+v", np)
	}
	if _, err := os.Stat(filepath.Join(e.media, e.tracks[0].Path)); !os.IsNotExist(err) {
		t.Fatalf("file of the deleted track: %v", err)
	}
	if err := e.svc.DeleteTrack(ctx, e.owner, e.station.Slug, e.tracks[1].ID); err != nil {
		t.Fatal(err)
	}
	// The deleted track fades out over the station's crossfade, then the
	// station stops.
	deadline := time.Now().Add(15 * time.Second)
	for e.svc.Status(e.station.Slug).Live {
		if time.Now().After(deadline) {
			t.Fatal("a station with no tracks left is still live after 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMetadataShowWhileOffAir(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	show, title := "Night Show", "T"
	if err := e.svc.UpdateMetadata(ctx, e.owner, e.station.Slug, onair.MetadataUpdate{Show: &show}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.UpdateMetadata(ctx, e.owner, e.station.Slug, onair.MetadataUpdate{Title: &title}), onair.EConflict)
	wantCode(t, e.svc.UpdateMetadata(ctx, e.owner, e.station.Slug, onair.MetadataUpdate{}), onair.EInvalid)
	if err := e.svc.StartStation(ctx, e.owner, e.station.Slug, 0); err != nil {
		t.Fatal(err)
	}
	if np := e.svc.Status(e.station.Slug).NowPlaying; np.Show != show {
		t.Fatalf("show %q after start", np.Show)
	}
}

func TestUploadsWaitForAFreeChecker(t *testing.T) {
	e := newEnv(t)
	for range cap(e.svc.ingests) {
		e.svc.ingests <- struct{}{} // every checker is busy
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.svc.AddTrack(ctx, e.station, "x.mp3", bytes.NewReader(audiotest.Fixture(t, "tone440.mp3")))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with no free checker: %v", err)
	}
	<-e.svc.ingests
	if _, err := e.svc.AddTrack(context.Background(), e.station, "x.mp3", bytes.NewReader(audiotest.Fixture(t, "tone440.mp3"))); err != nil {
		t.Fatal(err)
	}
}
