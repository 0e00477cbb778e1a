// Package ingest turns an uploaded file into a checked, tagged Track on
// disk: only files the server can play (MPEG-1/2 layer III that decodes)
// are kept, under names the server makes.
package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/ingest/mp3"
)

// DefaultMaxBytes is the largest accepted file when Ingester.MaxBytes is 0.
const DefaultMaxBytes = 200 << 20

// MinDuration is the shortest track accepted. Shorter files are almost
// always mistakes (a cut upload, a test file), and each track change costs
// every listener a metadata update: a playlist of 26 ms files would send
// dozens per second.
const MinDuration = 500 * time.Millisecond

// maxEmptyReads ends an upload whose reader keeps returning 0, nil.
const maxEmptyReads = 100

// copyBufSize is the chunk in which uploads are copied; ctx is checked
// between chunks.
const copyBufSize = 64 << 10

// Ingester stores uploads in MediaDir. Its zero MaxBytes means
// DefaultMaxBytes. It holds no state, so one Ingester serves concurrent
// uploads.
type Ingester struct {
	MediaDir string // files live here under server-made names
	MaxBytes int64  // largest accepted file (0 = 200 MiB default)

	// noSync skips the fsyncs, for the fuzz target only: on a slow disk
	// they take it from thousands of runs a second to a few.
	noSync bool
}

// Ingest streams r (never the whole file in memory) to a temporary file in
// MediaDir, checks that it is an MP3 a station can play by scanning and
// fully decoding it, reads its tags and renames it to its final
// server-made name. On any error nothing is left on disk.
//
// filename is the uploader's name: untrusted, only its cleaned base name is
// kept, for display and messages. Errors for the user are *onair.Error
// (ETooLarge, EUnsupported, EUnprocessable, EInvalid for an upload cut
// short) that also wrap the cause; a cancelled ctx gives ctx's error.
//
// r is read in chunks with ctx checked between them; a Read that blocks is
// not interrupted, which for an HTTP body is fine: the server closes it
// when the request is cancelled.
func (in *Ingester) Ingest(ctx context.Context, filename string, r io.Reader) (onair.Track, error) {
	name := CleanFilename(filename)
	if in.MediaDir == "" {
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, ErrNoMediaDir)
	}
	if err := ctx.Err(); err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, err)
	}
	if err := os.MkdirAll(in.MediaDir, 0o755); err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %w", err)
	}
	f, err := os.CreateTemp(in.MediaDir, ".upload-*.tmp")
	if err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %w", err)
	}
	tmp := f.Name()
	kept := false
	defer func() {
		if !kept {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()

	size, err := in.receive(ctx, name, f, r)
	if err != nil {
		return onair.Track{}, err
	}
	if size == 0 {
		return onair.Track{}, onair.Errorf(onair.EUnprocessable, "%s: empty file", name)
	}
	t, err := check(ctx, name, f)
	if err != nil {
		return onair.Track{}, err
	}
	t.Title, t.Artist, t.Album = readTags(f)
	if t.Title == "" {
		t.Title = titleFromFilename(name)
	}
	t.Filename, t.Size = name, size

	final, err := newName()
	if err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, err)
	}
	if err := commit(f, tmp, filepath.Join(in.MediaDir, final), !in.noSync); err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, err)
	}
	kept = true
	t.Path = final
	return t, nil
}

// receive copies the upload to f, refusing more than the limit.
func (in *Ingester) receive(ctx context.Context, name string, f *os.File, r io.Reader) (int64, error) {
	limit := in.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	buf := make([]byte, copyBufSize)
	var n int64
	empty := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("ingest: %s: %w", name, err)
		}
		m, rerr := r.Read(buf)
		if m == 0 && rerr == nil {
			// A reader may return 0, nil now and then, not forever.
			if empty++; empty >= maxEmptyReads {
				rerr = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
		if m > 0 {
			if n+int64(m) > limit {
				return n, onair.Errorf(onair.ETooLarge, "%s: file is larger than the %s limit", name, formatSize(limit))
			}
			if _, err := f.Write(buf[:m]); err != nil {
				return n, fmt.Errorf("ingest: write %s: %w", name, err)
			}
			n += int64(m)
		}
		switch {
		case errors.Is(rerr, io.EOF):
			return n, nil
		case rerr != nil:
			if err := ctx.Err(); err != nil {
				return n, fmt.Errorf("ingest: %s: %w", name, err)
			}
			return n, fmt.Errorf("ingest: %w: %w",
				onair.Errorf(onair.EInvalid, "%s: upload interrupted after %d bytes", name, n), rerr)
		}
	}
}

// commit makes the checked file durable under its final name: data synced
// before the rename, and the directory synced after it, so a crash never
// leaves a track row pointing at an empty or missing file.
func commit(f *os.File, tmp, final string, sync bool) error {
	if sync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		_ = os.Remove(final)
		return err
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// newName returns a fresh server-made file name: 128 random bits, so names
// never collide and say nothing about the upload.
func newName() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]) + ".mp3", nil
}

var serverName = regexp.MustCompile(`^[0-9a-f]{32}\.mp3$`)

// Remove deletes a track's file: when a later step (the database insert)
// fails, or when the track is deleted. A file already gone is not an
// error. Only names Ingest makes are accepted, so a bad Path can never
// reach outside MediaDir.
func (in *Ingester) Remove(t onair.Track) error {
	if in.MediaDir == "" {
		return fmt.Errorf("ingest: remove %q: %w", t.Path, ErrNoMediaDir)
	}
	if !serverName.MatchString(t.Path) {
		return fmt.Errorf("ingest: remove %q: %w", t.Path, ErrBadPath)
	}
	err := os.Remove(filepath.Join(in.MediaDir, t.Path))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ingest: remove: %w", err)
	}
	return nil
}

// check probes and decodes the file, returning a Track with the measured
// fields filled.
func check(ctx context.Context, name string, f *os.File) (onair.Track, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, err)
	}
	info, err := mp3.Probe(f)
	if err != nil {
		return onair.Track{}, probeError(name, err)
	}
	if info.Duration < MinDuration {
		return onair.Track{}, onair.Errorf(onair.EUnprocessable,
			"%s: too short to play (%.2f s of audio, at least %.1f s needed)",
			name, info.Duration.Seconds(), MinDuration.Seconds())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, err)
	}
	if err := decode(ctx, f, info); err != nil {
		if ctx.Err() != nil {
			return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, ctx.Err())
		}
		return onair.Track{}, fmt.Errorf("ingest: %w: %w",
			onair.Errorf(onair.EUnprocessable, "%s: cannot be decoded: %v", name, err), err)
	}
	return onair.Track{
		Duration:   info.Duration,
		Bitrate:    info.Bitrate,
		SampleRate: info.SampleRate,
		Channels:   info.Channels,
	}, nil
}

// probeError turns a Probe error into the user's error.
func probeError(name string, err error) error {
	var code onair.Code
	var msg string
	switch {
	case errors.Is(err, mp3.ErrNoFrames):
		code, msg = onair.EUnsupported, "not an MP3 file"
	case errors.Is(err, mp3.ErrNoAudio),
		errors.Is(err, mp3.ErrMPEG25),
		errors.Is(err, mp3.ErrLayer),
		errors.Is(err, mp3.ErrFreeFormat),
		errors.Is(err, mp3.ErrMixedFormat):
		code, msg = onair.EUnprocessable, sentinelText(err)
	default:
		return fmt.Errorf("ingest: probe %s: %w", name, err)
	}
	return fmt.Errorf("ingest: %w: %w", onair.Errorf(code, "%s: %s", name, msg), err)
}

// sentinelText is the text of the mp3 sentinel in err: the detail around
// it (offsets) is for logs, not users.
func sentinelText(err error) string {
	for _, s := range []error{mp3.ErrNoAudio, mp3.ErrMPEG25, mp3.ErrLayer, mp3.ErrFreeFormat, mp3.ErrMixedFormat} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return err.Error()
}

// formatSize writes a byte limit as people read it: "200 MiB".
func formatSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		switch {
		case n >= u.size && n%u.size == 0:
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		case n >= u.size:
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
