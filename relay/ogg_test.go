package relay

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/testutil"
)

// oggTitles returns the TITLE= comments of every OpusTags header in an
// Ogg stream, in order. Each header is small enough to sit in one page, so
// its comment list is read straight from the bytes after the magic.
func oggTitles(b []byte) []string {
	var out []string
	for {
		i := bytes.Index(b, []byte("OpusTags"))
		if i < 0 {
			return out
		}
		b = b[i+8:]
		p := b
		u32 := func() int {
			if len(p) < 4 {
				return -1
			}
			v := int(binary.LittleEndian.Uint32(p))
			p = p[4:]
			return v
		}
		vendor := u32()
		if vendor < 0 || vendor > len(p) {
			continue
		}
		p = p[vendor:]
		for n := u32(); n > 0; n-- {
			l := u32()
			if l < 0 || l > len(p) {
				break
			}
			if c := string(p[:l]); strings.HasPrefix(c, "TITLE=") {
				out = append(out, strings.TrimPrefix(c, "TITLE="))
			}
			p = p[l:]
		}
	}
}

func TestOggOpusMountChainsTitlesAndDecodes(t *testing.T) {
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second}
	srv := liveRelay(t, r, "tone440.mp3", "tone880.mp3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stream/test.opus", nil)
	req.Header.Set("Icy-MetaData", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "audio/ogg" || resp.Header.Get("icy-metaint") != "" {
		t.Fatalf("Content-Type %q, icy-metaint %q: want audio/ogg and no ICY blocks", ct, resp.Header.Get("icy-metaint"))
	}
	var got bytes.Buffer
	read := func(d time.Duration) {
		t.Helper()
		buf := make([]byte, 4096)
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			n, err := resp.Body.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				t.Fatalf("read: %v", err)
			}
		}
	}
	read(2 * time.Second)
	if !bytes.HasPrefix(got.Bytes(), []byte("OggS")) {
		t.Fatal("the stream does not start with an Ogg page")
	}
	if err := r.Skip("test"); err != nil {
		t.Fatal(err)
	}
	read(2 * time.Second)
	titles := oggTitles(got.Bytes())
	if len(titles) != 2 || titles[0] != "Tone 440" || titles[1] != "Tone 880" {
		t.Fatalf("OpusTags titles %q, want a link for each track", titles)
	}

	// What a real decoder makes of it: no error, and two links.
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	f := filepath.Join(t.TempDir(), "x.opus")
	if err := os.WriteFile(f, got.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-i", f, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
}

func TestEncodersRunOnlyWithListeners(t *testing.T) {
	r := &Relay{ChunkDuration: 100 * time.Millisecond, Burst: time.Second}
	srv := liveRelay(t, r, "tone440.mp3")
	s := r.get("test")
	on := func(k mountKind) bool {
		var v bool
		if err := s.do(func() bool { v = s.mounts[k].on; return true }); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if on(mountMP3) || on(mountOgg) {
		t.Fatal("an encoder runs with nobody listening")
	}
	resp, err := http.Get(srv.URL + "/stream/test")
	if err != nil {
		t.Fatal(err)
	}
	// The first listener gets its burst at once, from a station that was
	// not encoding.
	b := make([]byte, 16000)
	start := time.Now()
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a 1 s burst took %v", d)
	}
	if !on(mountMP3) || on(mountOgg) {
		t.Fatal("want the MP3 encoder on, and only it")
	}
	resp.Body.Close()
	testutil.Eventually(t, 10*time.Second, "the MP3 encoder to stop", func() bool { return !on(mountMP3) })
	var kept bool
	if err := s.do(func() bool { kept = s.recent != nil; return true }); err != nil {
		t.Fatal(err)
	}
	if kept {
		t.Fatal("an idle station keeps its recent mix")
	}
}
