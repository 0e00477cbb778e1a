package rtc

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/pion/opus"
	"github.com/thesyncim/gopus"
)

const frame20 = 20 * time.Millisecond

type emitted struct {
	pkt []byte
	dur time.Duration
}

func collect(out *[]emitted) func([]byte, time.Duration) {
	return func(b []byte, d time.Duration) { *out = append(*out, emitted{bytes.Clone(b), d}) }
}

// encodeTone makes n 20 ms Opus packets of a 440 Hz stereo tone.
func encodeTone(t *testing.T, n int) [][]byte {
	t.Helper()
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: 48000, Channels: 2, Application: gopus.ApplicationAudio})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.SetBitrate(128000); err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	pcm := make([]float32, 960*2)
	buf := make([]byte, 4000)
	for k := range n {
		for i := range 960 {
			v := float32(0.5 * math.Sin(2*math.Pi*440*float64(k*960+i)/48000))
			pcm[2*i], pcm[2*i+1] = v, v
		}
		m, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, bytes.Clone(buf[:m]))
	}
	return pkts
}

func decodeAll(t *testing.T, pkts [][]byte) []float32 {
	t.Helper()
	dec, err := opus.NewDecoderWithOutput(48000, 2)
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	out := make([]float32, 5760*2)
	for _, p := range pkts {
		n, err := dec.DecodeToFloat32(p, out)
		if err != nil {
			t.Fatalf("decode %d bytes (TOC %08b): %v", len(p), p[0], err)
		}
		all = append(all, out[:n*2]...)
	}
	return all
}

// TestPackerJoinsFramesIntoOnePacket: three 20 ms packets become one
// 60 ms code 3 packet that decodes to exactly the samples of the three.
func TestPackerJoinsFramesIntoOnePacket(t *testing.T) {
	in := encodeTone(t, 9)
	var out []emitted
	p := opusPacker{max: 60 * time.Millisecond}
	for _, pkt := range in {
		if pkt[0]&3 != 0 {
			t.Fatalf("the encoder wrote a code %d packet for one 20 ms frame", pkt[0]&3)
		}
		p.add(pkt, frame20, collect(&out))
	}
	if len(out) != 3 {
		t.Fatalf("%d packets out of 9 frames, want 3", len(out))
	}
	var joined [][]byte
	for i, e := range out {
		if e.dur != 60*time.Millisecond || e.pkt[0]&3 != 3 || e.pkt[1] != 0x80|3 {
			t.Fatalf("packet %d: %v, TOC %08b, count byte %08b; want 60 ms, code 3, VBR with 3 frames", i, e.dur, e.pkt[0], e.pkt[1])
		}
		if e.pkt[0]&^3 != in[3*i][0] {
			t.Fatalf("packet %d: configuration %08b, want the frames' %08b", i, e.pkt[0]&^3, in[3*i][0])
		}
		joined = append(joined, e.pkt)
	}
	want, got := decodeAll(t, in), decodeAll(t, joined)
	if len(got) != len(want) || len(got) != 9*960*2 {
		t.Fatalf("decoded %d samples, want %d (%d)", len(got), len(want), 9*960*2)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestPackerPassesWhatItCannotJoin(t *testing.T) {
	a := []byte{0b01111_0_00, 1, 2, 3}    // hybrid FB 20 ms, mono, code 0
	b := []byte{0b01111_1_00, 4, 5}       // the same, stereo: another configuration
	c := []byte{0b01111_0_01, 6, 7, 8, 9} // two frames already (code 1)
	var out []emitted
	p := opusPacker{max: 60 * time.Millisecond}
	e := collect(&out)
	p.add(a, frame20, e) // held
	p.add(b, frame20, e) // flushes a alone (as it came), holds b
	p.add(c, frame20, e) // flushes b, c goes alone
	p.add(a, frame20, e)
	p.add(a, frame20, e)
	p.add(a, frame20, e) // 60 ms: out
	want := []emitted{{a, frame20}, {b, frame20}, {c, frame20}, {[]byte{0b01111_0_11, 0x83, 3, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, 60 * time.Millisecond}}
	if len(out) != len(want) {
		t.Fatalf("%d packets, want %d: %v", len(out), len(want), out)
	}
	for i := range want {
		if !bytes.Equal(out[i].pkt, want[i].pkt) || out[i].dur != want[i].dur {
			t.Errorf("packet %d: %v %v, want %v %v", i, out[i].pkt, out[i].dur, want[i].pkt, want[i].dur)
		}
	}
	// No packing when a packet is one frame long.
	out = nil
	p = opusPacker{max: 20 * time.Millisecond}
	p.add(a, frame20, collect(&out))
	if len(out) != 1 || !bytes.Equal(out[0].pkt, a) {
		t.Errorf("with 20 ms packets: %v", out)
	}
	// A 40 ms frame does not fit beside another in 60 ms.
	out = nil
	p = opusPacker{max: 60 * time.Millisecond}
	p.add(a, 40*time.Millisecond, collect(&out))
	p.add(a, 40*time.Millisecond, collect(&out))
	if len(out) != 1 || out[0].dur != 40*time.Millisecond {
		t.Errorf("40 ms frames in 60 ms packets: %v", out)
	}
}

// TestFrameLengths: RFC 6716 §3.2.1's one- and two-byte lengths read back.
func TestFrameLengths(t *testing.T) {
	for _, n := range []int{0, 1, 251, 252, 253, 255, 256, 300, 1000, 1275} {
		b := appendFrameLength(nil, n)
		got := int(b[0])
		if b[0] >= 252 {
			got = 4*int(b[1]) + int(b[0])
		}
		if got != n || (n < 252) != (len(b) == 1) {
			t.Errorf("%d written as %v, reads %d", n, b, got)
		}
	}
}
