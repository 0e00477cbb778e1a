package icytest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onairfm/onair/relay/icy"
)

// stream serves 8 audio bytes, a block, 8 more, and so on, announcing
// metaint 8.
func stream(t *testing.T, titles ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("icy-metaint", "8")
		for i, title := range titles {
			fmt.Fprint(w, strings.Repeat(string(rune('a'+i)), 8))
			block := icy.Empty()
			if title != "" {
				block = icy.Block(title)
			}
			_, _ = w.Write(block)
		}
		fmt.Fprint(w, "zzzzzzzz")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestListenerKeepsAudioAndTitles(t *testing.T) {
	srv := stream(t, "A - B", "", "C", "A - B")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := Listen(t, ctx, srv.URL, 8)
	l.ReadUntil("40 bytes", func() bool { return len(l.Audio) >= 40 })
	if got := string(l.Audio); got != "aaaaaaaabbbbbbbbccccccccddddddddzzzzzzzz" {
		t.Fatalf("audio %q", got)
	}
	for _, tc := range []struct {
		title string
		from  int64
		at    int64
		ok    bool
	}{
		{"A - B", 0, 8, true},
		{"A - B", 9, 32, true},
		{"C", 0, 24, true},
		{"C", 25, 0, false},
		{"missing", 0, 0, false},
	} {
		if at, ok := l.TitleAt(tc.title, tc.from); at != tc.at || ok != tc.ok {
			t.Errorf("TitleAt(%q, %d) = %d, %v, want %d, %v", tc.title, tc.from, at, ok, tc.at, tc.ok)
		}
	}
	if n := len(l.Metas()); n != 4 {
		t.Errorf("%d metadata blocks, want 4", n)
	}
}

// fatalTB records a failure and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper()                      {}
func (f *fatalTB) Cleanup(fn func())            { f.TB.Cleanup(fn) }
func (f *fatalTB) Fatal(args ...any)            { f.fail(fmt.Sprint(args...)) }
func (f *fatalTB) Fatalf(s string, args ...any) { f.fail(fmt.Sprintf(s, args...)) }
func (f *fatalTB) fail(msg string) {
	f.mu.Lock()
	f.msg = msg
	f.mu.Unlock()
	runtime.Goexit()
}

func TestListenerFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		metaint int
		run     func(*Listener)
		want    string
	}{
		{"another metaint", 16000, nil, "icy-metaint"},
		{"stream ends first", 8, func(l *Listener) { l.ReadUntil("forever", func() bool { return false }) }, "until forever"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := stream(t, "A")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			f := &fatalTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				l := Listen(f, ctx, srv.URL, tc.metaint)
				if tc.run != nil {
					tc.run(l)
				}
			}()
			<-done
			f.mu.Lock()
			defer f.mu.Unlock()
			if !strings.Contains(f.msg, tc.want) {
				t.Fatalf("failure %q, want one about %q", f.msg, tc.want)
			}
		})
	}
}
