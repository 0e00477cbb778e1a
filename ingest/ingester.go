// Package ingest turns an uploaded file into a checked, tagged, measured
// Track on disk: only files the server can play (MP3, 16/24-bit PCM WAV
// and FLAC that decode completely, any rate, mono or stereo) are kept,
// under names the server makes, with their cover art beside them.
//
// Each upload is decoded once: that pass proves the file decodes to its
// end in one format, measures its duration and feeds audio/analysis
// (loudness, peak, cue points). What can be refused without decoding
// (the format, the length, a bitrate so low that a small file would cost
// long decoding) is refused right after a header scan. Tags are read from
// bounded copies, and the request's context stops every step.
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
)

// DefaultMaxBytes is the largest accepted file when Ingester.MaxBytes is 0.
const DefaultMaxBytes = 200 << 20

// MinDuration is the shortest track accepted. Shorter files are almost
// always mistakes (a cut upload, a test file), and each track change costs
// every listener a metadata update: a playlist of 26 ms files would send
// dozens per second.
const MinDuration = 500 * time.Millisecond

// DefaultMaxDuration is the longest track accepted when
// Ingester.MaxDuration is 0: longer than any DJ mix a 200 MiB file holds
// at 128 kbit/s, and a bound on the decoding work of one upload.
const DefaultMaxDuration = 4 * time.Hour

// MinBitrate is the lowest average bitrate accepted at 44.1 kHz and
// above, bit/s. Decoding costs per sample, not per byte: 1 MB of 8 kbit/s
// MPEG-2 frames at 24 kHz is 17 minutes to decode. Below a sample rate of
// 44.1 kHz the floor falls with the rate (13 kbit/s at 24 kHz, 4 at
// 8 kHz), since a second of audio there is that much less to decode: an
// 8 kHz MPEG-2.5 file at 16 kbit/s, a usual speech encoding, is accepted.
// Files under the floor are refused after the header scan, before any
// decoding.
const MinBitrate = 24000

// minBitrate is the floor at a sample rate: MinBitrate per 44.1 kHz.
func minBitrate(rate int) int {
	if rate <= 0 || rate >= 44100 {
		return MinBitrate
	}
	return MinBitrate * rate / 44100
}

// pcmChunk is how much is decoded between two looks at the context, in
// seconds: 0.1 s.
const pcmChunkDiv = 10

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
	// MaxDuration is the longest accepted track (0 = DefaultMaxDuration).
	MaxDuration time.Duration

	// noSync skips the fsyncs, for the fuzz target only: on a slow disk
	// they take it from thousands of runs a second to a few.
	noSync bool
}

// Ingest streams r (never the whole file in memory) to a temporary file in
// MediaDir, detects its format by content, checks and measures it in one
// decode pass (see the package comment), reads its tags and cover art and
// renames it to its final server-made name, the art beside it as
// Path+".art". On any error nothing is left on disk.
//
// filename is the uploader's name: untrusted, only its cleaned base name is
// kept, for display and messages. Errors for the user are *onair.Error
// (ETooLarge, EUnsupported for what is not audio, EUnprocessable for
// audio that cannot be aired, EInvalid for an upload cut short) that also
// wrap the cause; a cancelled ctx gives ctx's error.
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
	t, wav, err := in.check(ctx, name, f, size)
	if err != nil {
		return onair.Track{}, err
	}
	tg := readTags(f, t.Format, wav)
	t.Title, t.Artist, t.Album = tg.title, tg.artist, tg.album
	if t.Title == "" {
		t.Title = titleFromFilename(name)
	}
	t.Filename, t.Size, t.Kind = name, size, onair.KindMusic

	final, err := newName(t.Format)
	if err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, err)
	}
	finalPath := filepath.Join(in.MediaDir, final)
	if tg.art != nil {
		if err := in.writeArt(finalPath+artSuffix, tg.art); err != nil {
			return onair.Track{}, fmt.Errorf("ingest: %s: cover art: %w", name, err)
		}
		t.ArtMIME = tg.artMIME
	}
	if err := commit(f, tmp, finalPath, !in.noSync); err != nil {
		if tg.art != nil {
			_ = os.Remove(finalPath + artSuffix)
		}
		return onair.Track{}, fmt.Errorf("ingest: %s: %w", name, err)
	}
	kept = true
	t.Path = final
	return t, nil
}

// artSuffix names a track's cover art file: Path + artSuffix.
const artSuffix = ".art"

// writeArt stores cover art at path with the same care as the audio: a
// temporary file, synced, then renamed.
func (in *Ingester) writeArt(path string, art []byte) error {
	f, err := os.CreateTemp(in.MediaDir, ".upload-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(art); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := commit(f, tmp, path, !in.noSync); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	return nil
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

// newName returns a fresh server-made file name with the format's
// extension: 128 random bits, so names never collide and say nothing
// about the upload.
func newName(format string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]) + "." + format, nil
}

var serverName = regexp.MustCompile(`^[0-9a-f]{32}\.(mp3|wav|flac)$`)

// Remove deletes a track's file and its cover art: when a later step (the
// database insert) fails, or when the track is deleted. A file already
// gone is not an error. Only names Ingest makes are accepted, so a bad
// Path can never reach outside MediaDir.
func (in *Ingester) Remove(t onair.Track) error {
	if in.MediaDir == "" {
		return fmt.Errorf("ingest: remove %q: %w", t.Path, ErrNoMediaDir)
	}
	if !serverName.MatchString(t.Path) {
		return fmt.Errorf("ingest: remove %q: %w", t.Path, ErrBadPath)
	}
	p := filepath.Join(in.MediaDir, t.Path)
	for _, name := range []string{p + artSuffix, p} {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ingest: remove: %w", err)
		}
	}
	return nil
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
