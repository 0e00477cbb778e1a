// Package icytest listens to a station's stream as a media player does,
// asking for ICY metadata, and keeps the audio and the titles it heard.
// Tests only: the relay's, the live sources' and the server's tests read
// streams the same way, so they share this one listener.
package icytest

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/onairfm/onair/relay/icy"
)

// Listener reads one stream. Reader and Audio belong to the test's
// goroutine; the metadata blocks seen so far are kept under a lock.
type Listener struct {
	t      testing.TB
	Resp   *http.Response
	Reader *icy.Reader
	// Audio is every audio byte read so far, metadata blocks taken out.
	Audio []byte

	mu    sync.Mutex
	metas []icy.Meta
}

// Listen opens url with "Icy-MetaData: 1" and fails t unless the answer is
// 200 with an icy-metaint of metaint (relay.Metaint for onair's streams).
// The body is closed when t ends.
func Listen(t testing.TB, ctx context.Context, url string, metaint int) *Listener {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Icy-MetaData", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if got := resp.Header.Get("icy-metaint"); resp.StatusCode != http.StatusOK || got != strconv.Itoa(metaint) {
		t.Fatalf("stream %s: status %d, icy-metaint %q, want 200 and %d", url, resp.StatusCode, got, metaint)
	}
	l := &Listener{t: t, Resp: resp}
	l.Reader = icy.NewReader(bufio.NewReader(resp.Body), metaint, func(m icy.Meta) {
		l.mu.Lock()
		l.metas = append(l.metas, m)
		l.mu.Unlock()
	})
	return l
}

// ReadUntil reads audio into Audio until cond holds, failing the test if
// the stream ends or errs first (the context given to Listen bounds it).
func (l *Listener) ReadUntil(what string, cond func() bool) {
	l.t.Helper()
	buf := make([]byte, 8192)
	for !cond() {
		n, err := l.Reader.Read(buf)
		l.Audio = append(l.Audio, buf[:n]...)
		if err != nil {
			l.t.Fatalf("reading the stream until %s: %v", what, err)
		}
	}
}

// TitleAt is the audio offset of the first complete metadata block at or
// after from that announces title.
func (l *Listener) TitleAt(title string, from int64) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.metas {
		if m.Full && m.Title == title && m.Offset >= from {
			return m.Offset, true
		}
	}
	return 0, false
}

// Metas is a copy of the metadata blocks seen so far.
func (l *Listener) Metas() []icy.Meta {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]icy.Meta(nil), l.metas...)
}
