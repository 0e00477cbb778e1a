package load

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadHead(t *testing.T) {
	tests := []struct {
		name             string
		head             string
		metaint, bitrate int
		err              error // nil: accepted; ErrStatus; errAny for other errors
	}{
		{"icecast", "HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nicy-br:128\r\nicy-metaint:16000\r\n\r\n", 16000, 128, nil},
		{"shoutcast", "ICY 200 OK\r\nicy-br: 128,128\r\nicy-metaint: 8192\r\n\r\n", 8192, 128, nil},
		{"http/1.1 no metadata", "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n", 0, 0, nil},
		{"not live", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0, 0, ErrStatus},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, ErrStatus},
		{"bad metaint", "HTTP/1.0 200 OK\r\nicy-metaint: -5\r\n\r\n", 0, 0, errAny},
		{"cut short", "HTTP/1.0 200 OK\r\nicy-br: 1", 0, 0, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mi, br, err := readHead(bufio.NewReader(strings.NewReader(tt.head)))
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case errors.Is(tt.err, errAny) && err == nil, errors.Is(tt.err, ErrStatus) && !errors.Is(err, ErrStatus):
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil && (mi != tt.metaint || br != tt.bitrate) {
				t.Fatalf("metaint %d bitrate %d, want %d %d", mi, br, tt.metaint, tt.bitrate)
			}
		})
	}
}

var errAny = errors.New("any error")

func FuzzReadHead(f *testing.F) {
	f.Add("HTTP/1.0 200 OK\r\nicy-br:128\r\nicy-metaint:16000\r\n\r\n")
	f.Add("ICY 200 OK\r\nicy-br: 128,128\r\n\r\n")
	f.Add("HTTP/1.1 404 Not Found\r\n\r\n")
	f.Fuzz(func(t *testing.T, head string) {
		mi, _, err := readHead(bufio.NewReader(strings.NewReader(head)))
		if err == nil && mi < 0 {
			t.Fatalf("accepted a negative metaint %d", mi)
		}
	})
}

// TestRunCountsFailures runs a flash crowd against a stream that does not
// exist: every listener is counted as failed, none as in.
func TestRunCountsFailures(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := Run(ctx, Config{Server: srv.URL, Station: "missing", HTTP: 4, Mode: ModeFlash,
		Baseline: 10 * time.Millisecond, Settle: 10 * time.Millisecond, Duration: 50 * time.Millisecond, PID: 0})
	if err != nil {
		t.Fatal(err)
	}
	h := rep.HTTP
	if h == nil || h.Attempted != 4 || h.Connected != 0 || h.Failed != 4 || h.Failures["status"] != 4 || h.SuccessRate != 0 {
		t.Fatalf("report %+v", h)
	}
	if rep.Proc != nil {
		t.Errorf("proc report without a pid: %+v", rep.Proc)
	}
	if !strings.Contains(rep.Table(), "0 in (0.0%)") {
		t.Errorf("table does not show the failures:\n%s", rep.Table())
	}
}

// TestRunRefusesOtherHosts checks the hard rule before anything is sent.
func TestRunRefusesOtherHosts(t *testing.T) {
	for _, server := range []string{"http://192.0.2.1:80", "http://localhost:80", "http://[::1]:80"} {
		_, err := Run(context.Background(), Config{Server: server, Station: "x", HTTP: 1})
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: err %v, want ErrNotLoopback", server, err)
		}
	}
	if _, err := Prepare(context.Background(), "http://192.0.2.1:80", "admin", "pw", "x", []string{"a.mp3"}); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("prepare: err %v, want ErrNotLoopback", err)
	}
}
