package live

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/testutil"
)

// runTool starts an external source client until the test ends, keeping
// its output for the failure message. Should it exit by itself, gone is
// called (to end the listener that waits for it).
func runTool(t *testing.T, gone func(), name string, args ...string) (stop func()) {
	t.Helper()
	stop, _ = runToolPID(t, gone, name, args...)
	return stop
}

// runToolPID is runTool that also returns the process id.
func runToolPID(t *testing.T, gone func(), name string, args ...string) (stop func(), pid int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	var out strings.Builder
	var mu sync.Mutex
	cmd.Stdout = writerFunc(func(p []byte) { mu.Lock(); out.Write(p); mu.Unlock() })
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
		if ctx.Err() == nil {
			gone()
		}
	}()
	var once sync.Once
	pid = cmd.Process.Pid
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			mu.Lock()
			t.Logf("%s output:\n%s", name, out.String())
			mu.Unlock()
		}
	})
	return stop, pid
}

// listening lists the TCP sockets process pid listens on, as "addr:port"
// in /proc's hex, from its descriptors and /proc/net/tcp{,6}.
func listening(t *testing.T, pid int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) > 9 && fields[3] == "0A" && inodes[fields[9]] { // 0A: LISTEN
				out = append(out, fields[1])
			}
		}
	}
	return out
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// TestRealSourceClients puts ffmpeg on air as Icecast 2.4 (PUT) and legacy
// (SOURCE) MP3 sources and as Ogg Opus and Ogg Vorbis sources: an HTTP
// listener hears its tone, then the playlist again when it stops.
func TestRealSourceClients(t *testing.T) {
	ff := testutil.NeedTool(t, "ffmpeg")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"mp3 PUT", []string{"-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "-content_type", "audio/mpeg"}},
		{"mp3 legacy SOURCE", []string{"-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "-content_type", "audio/mpeg", "-legacy_icecast", "1"}},
		{"ogg opus", []string{"-c:a", "libopus", "-b:a", "96k", "-f", "ogg", "-content_type", "audio/ogg"}},
		{"ogg vorbis", []string{"-c:a", "libvorbis", "-q:a", "4", "-f", "ogg", "-content_type", "audio/ogg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			l := listen(t, ctx, e.srv.URL+"/stream/test")
			hears(t, l, "the playlist", 0, 440)
			args := append([]string{"-hide_banner", "-loglevel", "warning", "-nostdin", "-re", "-f", "lavfi",
				"-i", "sine=frequency=1000:sample_rate=48000"}, tc.args...)
			args = append(args, fmt.Sprintf("icecast://deejay:password1@%s/stream/test", e.addr()))
			stop := runTool(t, cancel, ff, args...)
			l.ReadUntil("the streamer's name as title", func() bool { _, ok := l.TitleAt("DJ Test", 0); return ok })
			at, _ := l.TitleAt("DJ Test", 0)
			// ffmpeg's Ogg muxer sends a page a second: the feed waits for
			// a page and a bit before it sounds (relay's live prebuffer).
			hears(t, l, "the source", at+2*16000, 1000)

			stop()
			from := int64(len(l.Audio))
			l.ReadUntil("the playlist's title", func() bool { _, ok := l.TitleAt("Test Artist - Tone 440", from); return ok })
			back, _ := l.TitleAt("Test Artist - Tone 440", from)
			hears(t, l, "the playlist again", back, 440)
		})
	}
}

// TestLiquidsoapSource puts Liquidsoap (output.icecast, MP3) on air and
// names its title with Icecast's metadata call, as it does on a track
// change.
func TestLiquidsoapSource(t *testing.T) {
	ls := testutil.NeedTool(t, "liquidsoap")
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	l := listen(t, ctx, e.srv.URL+"/stream/test")
	hears(t, l, "the playlist", 0, 440)
	host, port, _ := strings.Cut(e.addr(), ":")
	// No telnet, no harbor: Liquidsoap listens on nothing, and only
	// connects to the test server on loopback.
	script := fmt.Sprintf(`
settings.init.allow_root.set(true)
settings.server.telnet.set(false)
settings.log.stdout.set(true)
settings.log.file.set(false)
s = sine(amplitude=0.3, 1000.)
s = insert_metadata(s)
def name(_) = s.insert_metadata([("artist","Liq Artist"),("title","Liq Song")]) end
thread.run(delay=1., fun () -> name(()))
output.icecast(%%mp3(bitrate=128), host=%q, port=%s, mount="stream/test", user="deejay", password="password1", s)
`, host, port)
	_, pid := runToolPID(t, cancel, ls, script)
	l.ReadUntil("Liquidsoap's title", func() bool { _, ok := l.TitleAt("Liq Artist - Liq Song", 0); return ok })
	if len(listening(t, os.Getpid())) == 0 {
		t.Fatal("the check does not even see this process's test server")
	}
	if ports := listening(t, pid); len(ports) > 0 {
		t.Fatalf("Liquidsoap listens on %v: it must open nothing", ports)
	}
	at, _ := l.TitleAt("Liq Artist - Liq Song", 0)
	hears(t, l, "Liquidsoap's tone", at, 1000)
}

// TestOggTagsNameTheSource: the TITLE and ARTIST an Ogg source puts in
// its stream's tags (ffmpeg's -metadata) become the station's title.
func TestOggTagsNameTheSource(t *testing.T) {
	ff := testutil.NeedTool(t, "ffmpeg")
	for _, codec := range []string{"libopus", "libvorbis"} {
		t.Run(codec, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			l := listen(t, ctx, e.srv.URL+"/stream/test")
			runTool(t, cancel, ff, "-hide_banner", "-loglevel", "warning", "-nostdin", "-re", "-f", "lavfi",
				"-i", "sine=frequency=1000:sample_rate=48000", "-c:a", codec, "-f", "ogg", "-content_type", "audio/ogg",
				"-metadata", "title=Ogg Song", "-metadata", "artist=Ogg Artist",
				fmt.Sprintf("icecast://deejay:password1@%s/stream/test", e.addr()))
			l.ReadUntil("the stream's own title", func() bool { _, ok := l.TitleAt("Ogg Artist - Ogg Song", 0); return ok })
		})
	}
}
