package web

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00\x5c\x72\xa8\x66" + strings.Repeat("\x00", 512))

func TestUploadTwoFiles(t *testing.T) {
	e := newEnv(t)
	resp, body := e.upload("owner", e.slug, file("tone440.mp3", fixture(t, "tone440.mp3")), file("tone880.mp3", fixture(t, "tone880.mp3")))
	m := want(t, resp, body, http.StatusCreated)
	tracks := objects(t, m, "tracks")
	if errs := objects(t, m, "errors"); len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
	if len(tracks) != 2 {
		t.Fatalf("%d tracks, want 2", len(tracks))
	}
	for i, w := range []struct{ title, file string }{{"Tone 440", "tone440.mp3"}, {"Tone 880", "tone880.mp3"}} {
		tr := tracks[i]
		checkTrack(t, tr)
		if tr["title"] != w.title || tr["filename"] != w.file || tr["artist"] != "Test Artist" || tr["album"] != "Fixtures" {
			t.Errorf("track %d: %v", i, tr)
		}
		if tr["bitrate"] != 128000.0 || tr["sample_rate"] != 44100.0 || tr["channels"] != 2.0 {
			t.Errorf("track %d format: %v", i, tr)
		}
		if d := tr["duration_ms"].(float64); d < 7900 || d > 8100 {
			t.Errorf("track %d lasts %v ms, want about 8000", i, d)
		}
	}
	if got := trackIDs(e.tracks(e.slug)); !slices.Equal(got, trackIDs(tracks)) {
		t.Errorf("listed %v, uploaded %v", got, trackIDs(tracks))
	}
	if n := len(e.files()); n != 2 {
		t.Errorf("%d files, want 2: %v", n, e.files())
	}
}

func TestUploadGoodAndBad(t *testing.T) {
	e := newEnv(t)
	resp, body := e.upload("owner", e.slug,
		file("song.mp3", fixture(t, "tone440.mp3")),
		file("fake.mp3", fixture(t, "not-mp3.wav")),
		file("second.mp3", fixture(t, "tone880.mp3")))
	m := want(t, resp, body, http.StatusCreated)
	if tracks := objects(t, m, "tracks"); len(tracks) != 2 || tracks[0]["filename"] != "song.mp3" || tracks[1]["filename"] != "second.mp3" {
		t.Errorf("tracks %v", tracks)
	}
	errs := objects(t, m, "errors")
	if len(errs) != 1 || errs[0]["file"] != "fake.mp3" || errs[0]["error"] == "" {
		t.Fatalf("errors %v, want one naming fake.mp3", errs)
	}
	if _, ok := m["error"]; ok {
		t.Errorf("a partly successful upload has a top-level error: %s", body)
	}
	if n := len(e.files()); n != 2 {
		t.Errorf("files %v, want the 2 good ones", e.files())
	}
}

// TestUploadMPEG25: an 8 kHz MPEG-2.5 file (16 kbit/s mono, a usual
// speech encoding) is a track like any other.
func TestUploadMPEG25(t *testing.T) {
	e := newEnv(t)
	resp, body := e.upload("owner", e.slug, file("low.mp3", fixture(t, "mpeg25-8k.mp3")))
	m := want(t, resp, body, http.StatusCreated)
	tracks := objects(t, m, "tracks")
	if len(tracks) != 1 {
		t.Fatalf("tracks %v, want 1", tracks)
	}
	tr := tracks[0]
	checkTrack(t, tr)
	if tr["filename"] != "low.mp3" || tr["title"] != "MPEG 2.5" || tr["bitrate"] != 16000.0 || tr["sample_rate"] != 8000.0 || tr["channels"] != 1.0 || tr["duration_ms"] != 3168.0 {
		t.Errorf("track %v", tr)
	}
}

func TestUploadRejections(t *testing.T) {
	e := newEnv(t)
	e.addTracks("tone440.mp3")
	before, beforeFiles := trackIDs(e.tracks(e.slug)), e.files()
	mp3 := fixture(t, "tone440.mp3")
	for _, c := range []struct {
		name   string
		parts  []filePart
		status int // 0: any 4xx
	}{
		// Accepted by its content whatever its name, but 0.05 s is too short.
		{"wav renamed", []filePart{file("x.mp3", fixture(t, "not-mp3.wav"))}, http.StatusUnprocessableEntity},
		{"png", []filePart{file("cover.mp3", pngBytes)}, http.StatusUnsupportedMediaType},
		{"text", []filePart{file("notes.mp3", []byte(strings.Repeat("just some text\n", 100)))}, http.StatusUnsupportedMediaType},
		{"empty", []filePart{file("empty.mp3", nil)}, 0},
		{"truncated", []filePart{file("cut.mp3", mp3[:100])}, 0},
		// One 415 and one 422: the first file's status.
		{"two bad", []filePart{file("a.mp3", pngBytes), file("b.mp3", fixture(t, "not-mp3.wav"))}, http.StatusUnsupportedMediaType},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.upload("owner", e.slug, c.parts...)
			if c.status == 0 && (resp.StatusCode < 400 || resp.StatusCode > 499) || c.status != 0 && resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			m := decodeObject(t, resp, body)
			if msg, _ := m["error"].(string); msg == "" {
				t.Errorf("no error message: %s", body)
			}
			errs := objects(t, m, "errors")
			if len(errs) != len(c.parts) {
				t.Fatalf("errors %v, want one per file", errs)
			}
			for i, p := range c.parts {
				if errs[i]["file"] != p.name || errs[i]["error"] == "" {
					t.Errorf("error %d: %v, want one naming %s", i, errs[i], p.name)
				}
			}
			if tracks := objects(t, m, "tracks"); len(tracks) != 0 {
				t.Errorf("tracks %v", tracks)
			}
			if got := trackIDs(e.tracks(e.slug)); !slices.Equal(got, before) {
				t.Errorf("tracks %v after a rejection, were %v", got, before)
			}
			if got := e.files(); !slices.Equal(got, beforeFiles) {
				t.Errorf("files %v after a rejection, were %v", got, beforeFiles)
			}
		})
	}
}

func TestUploadTooLarge(t *testing.T) {
	e := newEnv(t, withMaxBytes(64<<10))
	big, small := fixture(t, "tone440.mp3"), fixture(t, "untagged.mp3") // 126 KiB, 48 KiB
	resp, body := e.upload("owner", e.slug, file("big.mp3", big))
	m := decodeObject(t, resp, body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %s", resp.StatusCode, body)
	}
	if !resp.Close {
		t.Error("413 without Connection: close: the server would read the rest of the body")
	}
	if errs := objects(t, m, "errors"); len(errs) != 1 || errs[0]["file"] != "big.mp3" {
		t.Errorf("errors %v", errs)
	}

	// The upload stops at the file too large: what follows is not read.
	resp, body = e.upload("owner", e.slug, file("big.mp3", big), file("small.mp3", small))
	m = decodeObject(t, resp, body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %s", resp.StatusCode, body)
	}
	if errs := objects(t, m, "errors"); len(errs) != 1 {
		t.Errorf("errors %v, want only the big file", errs)
	}
	// What came before it stays.
	resp, body = e.upload("owner", e.slug, file("small.mp3", small), file("big.mp3", big))
	m = want(t, resp, body, http.StatusCreated)
	if tracks, errs := objects(t, m, "tracks"), objects(t, m, "errors"); len(tracks) != 1 || len(errs) != 1 || errs[0]["file"] != "big.mp3" {
		t.Errorf("tracks %v errors %v", tracks, errs)
	}
	if n := len(e.tracks(e.slug)); n != 1 {
		t.Errorf("%d tracks, want the small one", n)
	}
	if files := e.files(); len(files) != 1 {
		t.Errorf("files %v, want the small one", files)
	}
}

func TestUploadFilenameCannotEscape(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"../../x.mp3", `..\..\y.mp3`, "/etc/z.mp3"} {
		resp, body := e.upload("owner", e.slug, file(name, fixture(t, "tone440.mp3")))
		tracks := objects(t, want(t, resp, body, http.StatusCreated), "tracks")
		wantName := filepath.Base(strings.ReplaceAll(name, `\`, "/"))
		if tracks[0]["filename"] != wantName {
			t.Errorf("%q stored as %v, want %s", name, tracks[0]["filename"], wantName)
		}
	}
	for _, f := range e.files() {
		if !strings.HasPrefix(f, filepath.Join("a", "b", "media")+string(filepath.Separator)) {
			t.Errorf("file %s outside the media dir", f)
		}
	}
	if n := len(e.files()); n != 3 {
		t.Errorf("files %v, want 3", e.files())
	}
}

func TestUploadBadRequests(t *testing.T) {
	e := newEnv(t)
	path := "/api/stations/" + e.slug + "/tracks"

	body, ct := multipartBody(t, filePart{field: "note", data: []byte("hello")})
	resp, b := e.do("POST", path, e.token["owner"], body, http.Header{"Content-Type": {ct}})
	wantError(t, resp, b, http.StatusBadRequest)

	// A file under another field name is not a file part.
	body, ct = multipartBody(t, filePart{"upload", "a.mp3", fixture(t, "tone440.mp3")})
	resp, b = e.do("POST", path, e.token["owner"], body, http.Header{"Content-Type": {ct}})
	wantError(t, resp, b, http.StatusBadRequest)

	resp, b = e.do("POST", path, e.token["owner"], `{"file":"x"}`, http.Header{"Content-Type": {"application/json"}})
	wantError(t, resp, b, http.StatusBadRequest)
	resp, b = e.do("POST", path, e.token["owner"], "garbage", http.Header{"Content-Type": {"multipart/form-data; boundary=xyz"}})
	wantError(t, resp, b, http.StatusBadRequest)
	resp, b = e.do("POST", path, e.token["owner"], nil, nil)
	wantError(t, resp, b, http.StatusBadRequest)

	// A body cut in the middle of a file.
	body, ct = multipartBody(t, file("a.mp3", fixture(t, "tone440.mp3")))
	resp, b = e.do("POST", path, e.token["owner"], body[:len(body)/2], http.Header{"Content-Type": {ct}})
	wantError(t, resp, b, http.StatusBadRequest)

	if n := len(e.tracks(e.slug)); n != 0 {
		t.Errorf("%d tracks after bad requests", n)
	}
	if files := e.files(); len(files) != 0 {
		t.Errorf("files %v after bad requests", files)
	}
}

func TestUploadRefusedBeforeReading(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		user, slug string
		status     int
	}{
		{"", e.slug, http.StatusUnauthorized},
		{"listener", e.slug, http.StatusForbidden},
		{"other", e.slug, http.StatusForbidden},
		{"owner", "nope", http.StatusNotFound},
	} {
		resp, body := e.upload(c.user, c.slug, file("a.mp3", fixture(t, "tone440.mp3")), file("b.mp3", fixture(t, "tone880.mp3")))
		m := decodeObject(t, resp, body)
		if resp.StatusCode != c.status {
			t.Fatalf("%s → %s: %d, want %d: %s", c.user, c.slug, resp.StatusCode, c.status, body)
		}
		if msg, _ := m["error"].(string); msg == "" {
			t.Errorf("no error message: %s", body)
		}
		if !resp.Close {
			t.Errorf("%s: refused without Connection: close", c.user)
		}
	}
	if files := e.files(); len(files) != 0 {
		t.Errorf("refused uploads left files: %v", files)
	}
	resp, body := e.as("", "GET", "/api/stations/"+e.slug+"/tracks", nil)
	if n := len(objects(t, want(t, resp, body, http.StatusOK), "tracks")); n != 0 {
		t.Errorf("%d tracks after refused uploads", n)
	}
}

func TestUploadToALiveStation(t *testing.T) {
	e := newEnv(t)
	ids := e.addTracks("tone440.mp3")
	resp, body := e.as("owner", "POST", "/api/stations/"+e.slug+"/start", nil)
	want(t, resp, body, http.StatusOK)
	added := e.addTracks("tone880.mp3")
	// The live station took the new track: skipping reaches it.
	resp, body = e.as("owner", "POST", "/api/stations/"+e.slug+"/skip", nil)
	np := want(t, resp, body, http.StatusOK)["now_playing"].(map[string]any)
	if int64(np["track_id"].(float64)) != added[0] {
		t.Fatalf("after skip playing %v, want the new track %d (first was %d)", np["track_id"], added[0], ids[0])
	}
}
