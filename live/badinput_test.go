package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onairfm/onair/audio/oggopus"
)

// oggPage frames one page of stream serial holding the given lacing and
// body.
func oggPage(serial uint32, seq uint32, flags byte, granule uint64, packets ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	return oggRaw(serial, seq, flags, granule, lacing, body)
}

func oggRaw(serial, seq uint32, flags byte, granule uint64, lacing, body []byte) []byte {
	h := make([]byte, 27, 27+len(lacing)+len(body))
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], granule)
	binary.LittleEndian.PutUint32(h[14:], serial)
	binary.LittleEndian.PutUint32(h[18:], seq)
	h[26] = byte(len(lacing))
	page := append(append(h, lacing...), body...)
	binary.LittleEndian.PutUint32(page[22:], oggopus.CRC(0, page))
	return page
}

func opusHead(ch byte) []byte {
	b := make([]byte, 19)
	copy(b, "OpusHead")
	b[8], b[9] = 1, ch
	binary.LittleEndian.PutUint32(b[12:], 48000)
	return b
}

// hugeTags is an Ogg Opus stream whose OpusTags never ends: 255-byte
// segments page after page, as a source with an endless header sends.
func hugeTags() []byte {
	out := oggPage(7, 0, oggBOS, 0, opusHead(2))
	seg := bytes.Repeat([]byte{'x'}, 255*255)
	lacing := bytes.Repeat([]byte{255}, 255)
	for i := range 8 { // 8 pages of 65025 bytes: past maxPacket
		flags := byte(0)
		if i > 0 {
			flags = oggContinued
		}
		out = append(out, oggRaw(7, uint32(i+1), flags, ^uint64(0), lacing, seg)...)
	}
	return out
}

func random(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestBadSourcesAreDropped sends what a broken or hostile source sends:
// each is dropped (the server closes its connection), and the playlist
// keeps or gets the air back.
func TestBadSourcesAreDropped(t *testing.T) {
	mp3a := frames(t, "tone1320.mp3")
	mp3b := frames(t, "tone660-48k.mp3")
	good := basic("deejay", "password1")
	for _, tc := range []struct {
		name   string
		ctype  string
		body   func(t *testing.T) []byte
		onAir  bool // it had the air before it went wrong
		stalls bool // it then sends nothing, connection open
	}{
		{"garbage from the start", "audio/mpeg", func(*testing.T) []byte { return random(600 << 10) }, false, false},
		{"garbage after audio", "audio/mpeg", func(*testing.T) []byte { return append(append([]byte{}, mp3a[:48000]...), random(600<<10)...) }, true, false},
		{"MP3 that changes rate", "audio/mpeg", func(*testing.T) []byte { return append(append([]byte{}, mp3a[:48000]...), mp3b...) }, true, false},
		{"Ogg that is not Ogg", "audio/ogg", func(*testing.T) []byte { return mp3a }, false, false},
		{"Ogg with an endless header", "audio/ogg", func(*testing.T) []byte { return hugeTags() }, false, false},
		{"Ogg Opus then Vorbis", "audio/ogg", func(t *testing.T) []byte {
			return append(encode(t, 1000, 2, "-c:a", "libopus", "-f", "ogg"), encode(t, 1000, 2, "-c:a", "libvorbis", "-f", "ogg")...)
		}, true, false},
		{"Ogg FLAC", "audio/ogg", func(t *testing.T) []byte { return encode(t, 1000, 1, "-c:a", "flac", "-f", "ogg") }, false, false},
		{"a source that stalls", "audio/mpeg", func(*testing.T) []byte { return mp3a[:48000] }, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			body := tc.body(t)
			s, resp := dialSource(t, e.addr(), sourceHead("PUT", "/stream/test", good, tc.ctype))
			if !strings.HasPrefix(resp, "HTTP/1.0 200 OK") {
				t.Fatalf("source refused: %q", resp)
			}
			go func() { _, _ = s.conn.Write(body) }()
			if tc.onAir {
				waitFor(t, "the source on air", func() bool { return e.r.Status("test").Source != nil })
			}
			// The server ends the connection; a stalled source only after
			// the relay took the air back (5 s of nothing).
			_ = s.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			// A close with unread input is a reset.
			if n, err := io.Copy(io.Discard, s.br); n != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("the server did not close the source's connection: %d bytes, %v", n, err)
			}
			waitFor(t, "the playlist on air", func() bool {
				st := e.r.Status("test")
				return st.Live && st.Source == nil && st.NowPlaying != nil && st.NowPlaying.Title == "Tone 440"
			})
			// What had the air and then went wrong is counted.
			if tc.onAir && !tc.stalls && metric(t, e, "onair_source_decode_errors_total") == 0 &&
				!strings.Contains(tc.name, "changes") && !strings.Contains(tc.name, "then") {
				t.Error("no decode error counted")
			}
			// The handler counts the disconnect as it returns, which may be
			// just after the connection closed and the playlist came back.
			if tc.onAir {
				waitFor(t, "the disconnect counted", func() bool { return metric(t, e, "onair_source_disconnects_total") == 1 })
			}
		})
	}
}

// TestEndlessRequestHeader: a head past net/http's limit never reaches
// the source handler.
func TestEndlessRequestHeader(t *testing.T) {
	e := newEnv(t)
	head := "PUT /stream/test HTTP/1.1\r\nHost: x\r\nX-Junk: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"
	_, resp := dialSource(t, e.addr(), head)
	if !strings.Contains(resp, " 431 ") {
		t.Fatalf("answer %q, want 431", resp)
	}
	if e.r.Status("test").Source != nil {
		t.Fatal("on air")
	}
}

// metric reads one of the relay's counters.
func metric(t *testing.T, e *env, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(e.r.Counters()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestStationStopEndsTheSource: stopping the station drops its source's
// connection, and Close drops what is left at shutdown.
func TestStationStopEndsTheSource(t *testing.T) {
	e := newEnv(t)
	s, resp := dialSource(t, e.addr(), sourceHead("PUT", "/stream/test", basic("deejay", "password1"), "audio/mpeg"))
	if !strings.HasPrefix(resp, "HTTP/1.0 200 OK") {
		t.Fatalf("source refused: %q", resp)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { _, _ = io.Copy(s.conn, &loopReader{data: frames(t, "tone1320.mp3"), stop: stop, rate: 16000}) }()
	waitFor(t, "the source on air", func() bool { return e.r.Status("test").Source != nil })
	if err := e.r.Stop("test"); err != nil {
		t.Fatal(err)
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	if n, err := io.Copy(io.Discard, s.br); n != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the source's connection outlived its station: %d bytes, %v", n, err)
	}
}
