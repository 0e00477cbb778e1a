package main

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/testutil"
)

// TestRealPlayers plays a live station in the media players people use:
// ffprobe must see the ICY title, ffmpeg must decode the right tone, mpv
// and VLC must play it and show each track's title as it changes.
func TestRealPlayers(t *testing.T) {
	s := startServer(t, "")
	tok := s.owner("deejay")
	// 8 s tracks, so a player running 12 s sees a title change; the 320k
	// track in between checks that a bitrate change does not upset them.
	slug, _ := s.liveStation(tok, "Player FM", "tone440.mp3", "tone880.mp3", "tone440-320k.mp3")
	url := s.URL + "/stream/" + slug
	// A one-track station, so the tone ffmpeg must hear is certain.
	single, _ := s.liveStation(tok, "Single FM", "tone1320.mp3")

	t.Run("ffprobe", func(t *testing.T) {
		t.Parallel()
		ffprobe := testutil.NeedTool(t, "ffprobe")
		out := runTool(t, 30*time.Second, nil, ffprobe, "-v", "error", "-show_entries", "format_tags=StreamTitle,icy-name", "-of", "default=nw=1", url)
		if !strings.Contains(out, "StreamTitle=Test Artist - Tone 440") || !strings.Contains(out, "Icy-Name=Player FM") {
			t.Fatalf("ffprobe shows:\n%s", out)
		}
	})
	t.Run("ffmpeg", func(t *testing.T) {
		t.Parallel()
		ffmpeg := testutil.NeedTool(t, "ffmpeg")
		cmd := exec.Command(ffmpeg, "-v", "error", "-i", s.URL+"/stream/"+single, "-t", "3", "-ac", "1", "-ar", "44100", "-f", "s16le", "pipe:1")
		pcm, err := outputWithin(cmd, 30*time.Second)
		if err != nil {
			t.Fatalf("ffmpeg: %v", err)
		}
		if len(pcm) < 2*44100*2 {
			t.Fatalf("ffmpeg decoded %d bytes", len(pcm))
		}
		samples := make([]float64, len(pcm)/2)
		for i := range samples {
			samples[i] = float64(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) / 32768
		}
		if f, share := audiotest.Dominant(samples, 44100, 440, 880, 1320); f != 1320 || share < 0.5 {
			t.Fatalf("ffmpeg decoded %v Hz (%.2f of the energy), want 1320", f, share)
		}
	})
	t.Run("mpv", func(t *testing.T) {
		t.Parallel()
		mpv := testutil.NeedTool(t, "mpv")
		out := runTool(t, 40*time.Second, nil, mpv, "--no-config", "--no-video", "--ao=null", "--length=12", "--quiet", url)
		checkTitles(t, "mpv", out, "icy-title: ")
	})
	t.Run("vlc", func(t *testing.T) {
		t.Parallel()
		cvlc := testutil.NeedTool(t, "cvlc")
		out := runTool(t, 40*time.Second, asUnprivileged(t), cvlc, "-I", "dummy", "--aout=dummy", "--play-and-exit", "--run-time=12", "-vv", url)
		checkTitles(t, "VLC", out, "New Icy-Title=")
		if !strings.Contains(out, `using audio decoder module "mpg123"`) {
			t.Error("VLC did not decode with mpg123")
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "decoder error") || strings.Contains(line, "Frankenstein") {
				t.Errorf("VLC: %s", line)
			}
		}
	})
}

// checkTitles requires that a player showed at least two of the station's
// titles, so it followed a track change; which two depends on when it
// started.
func checkTitles(t *testing.T, player, out, prefix string) {
	t.Helper()
	known := map[string]bool{"Test Artist - Tone 440": true, "Test Artist - Tone 880": true, "Tone 440 320k": true}
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if _, title, ok := strings.Cut(line, prefix); ok {
			title = strings.TrimSpace(title)
			if !known[title] {
				t.Errorf("%s showed an unknown title %q", player, title)
			}
			seen[title] = true
		}
	}
	if len(seen) < 2 {
		t.Errorf("%s showed %d title(s), want a change between two:\n%s", player, len(seen), out)
	}
}

// asUnprivileged runs a tool as nobody when the tests run as root: VLC
// refuses to run as root.
func asUnprivileged(t *testing.T) func(*exec.Cmd) {
	return func(cmd *exec.Cmd) {
		if os.Geteuid() != 0 {
			return
		}
		home, err := os.MkdirTemp("", "onair-vlc-home")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(home, 0o777)
		t.Cleanup(func() { os.RemoveAll(home) })
		cmd.Env = append(os.Environ(), "HOME="+home)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
}

// runTool runs a program to its end (bounded by limit) and returns its
// combined output; a non-zero exit fails the test.
func runTool(t *testing.T, limit time.Duration, setup func(*exec.Cmd), name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if setup != nil {
		setup(cmd)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

func outputWithin(cmd *exec.Cmd, limit time.Duration) ([]byte, error) {
	timer := time.AfterFunc(limit, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	return cmd.Output()
}
