package cluster

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

func TestTableSumsOtherNodesAndForgetsSilentOnes(t *testing.T) {
	t.Parallel()
	tb := newTable("self", 6*time.Second)
	t0 := time.Unix(1000, 0)
	if got := tb.update(&heartbeat{Node: "self", Stations: map[string]load{"a": {HTTP: 5}}}, t0); got != nil {
		t.Fatalf("own heartbeat changed %v", got)
	}
	got := tb.update(&heartbeat{Node: "e1", Stations: map[string]load{"a": {MP3: 2, HTTP: 2}, "b": {Opus: true, WebRTC: 1}}}, t0)
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("changed %v", got)
	}
	tb.update(&heartbeat{Node: "e2", Stations: map[string]load{"a": {Ogg: 1, HTTP: 1}}}, t0.Add(4*time.Second))
	tests := []struct {
		slug string
		out  relay.Output
		want bool
	}{
		{"a", relay.OutputMP3, true},
		{"a", relay.OutputOgg, true},
		{"a", relay.OutputOpus, false},
		{"b", relay.OutputOpus, true},
		{"b", relay.OutputMP3, false},
		{"c", relay.OutputMP3, false},
	}
	for _, tt := range tests {
		if got := tb.Wants(tt.slug, tt.out); got != tt.want {
			t.Errorf("Wants(%s, %v) = %v", tt.slug, tt.out, got)
		}
	}
	if l := tb.Listeners("a"); l != (onair.Listeners{HTTP: 3}) {
		t.Fatalf("listeners of a %+v", l)
	}
	// The same figures again change nothing.
	if got := tb.update(&heartbeat{Node: "e1", Stations: map[string]load{"a": {MP3: 2, HTTP: 2}, "b": {Opus: true, WebRTC: 1}}}, t0.Add(time.Second)); len(got) != 0 {
		t.Fatalf("unchanged heartbeat changed %v", got)
	}
	// e1 falls silent: 7 s after its last heartbeat it is gone, e2 stays.
	gone, slugs := tb.expire(t0.Add(8 * time.Second))
	slices.Sort(slugs)
	if !slices.Equal(gone, []string{"e1"}) || !slices.Equal(slugs, []string{"a", "b"}) {
		t.Fatalf("expired %v, stations %v", gone, slugs)
	}
	if l := tb.Listeners("a"); l != (onair.Listeners{HTTP: 1}) || tb.Wants("b", relay.OutputOpus) {
		t.Fatalf("after expiry: %+v, opus %v", l, tb.Wants("b", relay.OutputOpus))
	}
}

func TestMessagesAreChecked(t *testing.T) {
	t.Parallel()
	block := func(units int) []byte { b := make([]byte, 1+16*units); b[0] = byte(units); return b }
	good := chunkMsg{Seq: 1, Dur: int64(500 * time.Millisecond), Data: make([]byte, 100), Marks: []markMsg{{0, block(1)}, {50, block(2)}}}
	tests := []struct {
		name string
		mod  func(*chunkMsg)
		ok   bool
	}{
		{"good", func(*chunkMsg) {}, true},
		{"no marks", func(m *chunkMsg) { m.Marks = nil }, false},
		{"first mark not at 0", func(m *chunkMsg) { m.Marks[0].Off = 1 }, false},
		{"mark past the data", func(m *chunkMsg) { m.Marks[1].Off = 101 }, false},
		{"marks out of order", func(m *chunkMsg) { m.Marks[1].Off = 0 }, false},
		{"not an ICY block", func(m *chunkMsg) { m.Marks[1].Block = []byte{2, 0} }, false},
		{"no duration", func(m *chunkMsg) { m.Dur = 0 }, false},
		{"too large", func(m *chunkMsg) { m.Data = make([]byte, maxChunkData+1) }, false},
		{"head not in data", func(m *chunkMsg) { m.Head, m.HeadData = []byte("OggS"), true }, false},
	}
	for _, tt := range tests {
		m := good
		m.Marks = slices.Clone(good.Marks)
		tt.mod(&m)
		if _, err := m.chunk(); (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.name, err)
		}
	}
	hbs := []struct {
		h  heartbeat
		ok bool
	}{
		{heartbeat{Node: "e1", Stations: map[string]load{"jazz-fm": {HTTP: 1}}}, true},
		{heartbeat{Node: "", Stations: nil}, false},
		{heartbeat{Node: "e1", Stations: map[string]load{"Bad.Slug": {}}}, false},
		{heartbeat{Node: "e1", Stations: map[string]load{"a": {HTTP: -1}}}, false},
	}
	for _, tt := range hbs {
		if err := tt.h.check(); (err == nil) != tt.ok {
			t.Errorf("heartbeat %+v: err %v", tt.h, err)
		}
	}
	pkts := []struct {
		p  packetMsg
		ok bool
	}{
		{packetMsg{Dur: int64(20 * time.Millisecond), Data: []byte{1}}, true},
		{packetMsg{Dur: int64(20 * time.Millisecond)}, false},
		{packetMsg{Dur: int64(time.Second), Data: []byte{1}}, false},
		{packetMsg{Dur: int64(20 * time.Millisecond), Data: make([]byte, maxPacket+1)}, false},
	}
	for _, tt := range pkts {
		if err := tt.p.check(); (err == nil) != tt.ok {
			t.Errorf("packet %+v: err %v", tt.p.Dur, err)
		}
	}
	for subj, want := range map[string]string{"onair.jazz.chat": "jazz", "onair._sys.nodes": "", "onair.a.b.c": "", "onair.UP.chat": ""} {
		if got, _ := stationOf(subj); got != want {
			t.Errorf("stationOf(%q) = %q", subj, got)
		}
	}
}

// TestOriginURLIsChecked: the origin's public URL reaches source clients'
// screens through an edge, so only a plain absolute http(s) URL is kept.
func TestOriginURLIsChecked(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://radio.example.org", "https://radio.example.org"},
		{"http://radio.example.org:8000/", "http://radio.example.org:8000"},
		{"", ""},
		{"ftp://radio.example.org", ""},
		{"https://user:pw@radio.example.org", ""},
		{"/relative", ""},
		{"https://" + strings.Repeat("a", 2000) + ".org", ""},
	} {
		m := stateMsg{PublicURL: c.in}
		if got := m.publicURL(); got != c.want {
			t.Errorf("%q → %q, want %q", c.in, got, c.want)
		}
	}
}
