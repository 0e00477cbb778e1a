package oggopus

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesyncim/gopus"
	gogg "github.com/thesyncim/gopus/container/ogg"

	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/internal/testutil"
)

// opusPackets encodes secs seconds of a stereo tone at freq Hz into
// frameMS-millisecond Opus packets, as relay's encoder does, and returns
// them with the encoder's lookahead (the pre-skip).
func opusPackets(t testing.TB, freq, secs float64, frameMS int) (packets [][]byte, preSkip int) {
	t.Helper()
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: 48000, Channels: 2, Application: gopus.ApplicationAudio})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.SetBitrate(96000); err != nil {
		t.Fatal(err)
	}
	n := 48 * frameMS
	if err := enc.SetFrameSize(n); err != nil {
		t.Fatal(err)
	}
	pcm := make([]float32, 2*n)
	buf := make([]byte, 4000)
	for i := 0; i < int(secs*1000)/frameMS; i++ {
		for j := range n {
			v := float32(0.5 * math.Sin(2*math.Pi*freq*float64(i*n+j)/48000))
			pcm[2*j], pcm[2*j+1] = v, v
		}
		k, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, bytes.Clone(buf[:k]))
	}
	return packets, enc.Lookahead()
}

// page is one parsed Ogg page.
type page struct {
	flags   byte
	granule int64
	serial  uint32
	seq     uint32
	segs    []byte
	body    []byte
}

// parsePages splits data into pages, checking structure and CRC.
func parsePages(t testing.TB, data []byte) []page {
	t.Helper()
	var pages []page
	for len(data) > 0 {
		if len(data) < headerSize || string(data[:4]) != "OggS" || data[4] != 0 {
			t.Fatalf("page %d: bad capture pattern or version", len(pages))
		}
		nseg := int(data[26])
		if len(data) < headerSize+nseg {
			t.Fatalf("page %d: truncated segment table", len(pages))
		}
		segs := data[headerSize : headerSize+nseg]
		size := headerSize + nseg
		for _, s := range segs {
			size += int(s)
		}
		if len(data) < size {
			t.Fatalf("page %d: truncated body", len(pages))
		}
		raw := bytes.Clone(data[:size])
		want := binary.LittleEndian.Uint32(raw[22:])
		clear(raw[22:26])
		if got := crc(raw); got != want {
			t.Fatalf("page %d: crc %08x, header says %08x", len(pages), got, want)
		}
		// A second opinion on the CRC and layout from gopus's reader.
		if _, n, err := gogg.ParsePage(data[:size]); err != nil || n != size {
			t.Fatalf("page %d: gopus: %v (%d of %d bytes)", len(pages), err, n, size)
		}
		pages = append(pages, page{
			flags:   data[5],
			granule: int64(binary.LittleEndian.Uint64(data[6:])),
			serial:  binary.LittleEndian.Uint32(data[14:]),
			seq:     binary.LittleEndian.Uint32(data[18:]),
			segs:    segs,
			body:    data[headerSize+nseg : size],
		})
		data = data[size:]
	}
	return pages
}

// link is one logical stream of a chain, reassembled.
type link struct {
	serial   uint32
	packets  [][]byte
	granules []int64 // of each packet's page, where the packet ends
	pages    []page
}

// links reassembles the packets of each link of a chained stream,
// checking the chaining rules: BOS only on a link's first page, EOS only
// on its last, sequence numbers from 0 with no gap, the continued flag
// exactly where a packet spans pages.
//
// joined allows the gap a listener who joins mid-stream sees after the
// header pages of the first link.
func links(t testing.TB, pages []page, joined bool) []link {
	t.Helper()
	var out []link
	var cur *link
	var partial []byte
	inPacket := false
	for i, p := range pages {
		if p.flags&flagBOS != 0 {
			if cur != nil {
				t.Fatalf("page %d: BOS before the EOS of link %08x", i, cur.serial)
			}
			out = append(out, link{serial: p.serial})
			cur = &out[len(out)-1]
		}
		if cur == nil || p.serial != cur.serial {
			t.Fatalf("page %d: serial %08x outside a link", i, p.serial)
		}
		want := uint32(0)
		if n := len(cur.pages); n > 0 {
			want = cur.pages[n-1].seq + 1
		}
		if joined && len(out) == 1 && len(cur.pages) == 2 && p.seq > want {
			want = p.seq
		}
		if p.seq != want {
			t.Fatalf("page %d: sequence %d, want %d", i, p.seq, want)
		}
		if got := p.flags&flagContinued != 0; got != inPacket {
			t.Fatalf("page %d: continued flag %v, want %v", i, got, inPacket)
		}
		cur.pages = append(cur.pages, p)
		body := p.body
		header := len(cur.packets) < 2
		ended := false
		for _, s := range p.segs {
			partial = append(partial, body[:s]...)
			body = body[s:]
			inPacket = s == 255
			if !inPacket {
				cur.packets = append(cur.packets, partial)
				cur.granules = append(cur.granules, p.granule)
				partial, ended = nil, true
			}
		}
		if !ended && !header && p.granule != noGranule && len(p.segs) > 0 {
			t.Fatalf("page %d: granule %d on a page where no packet ends", i, p.granule)
		}
		if p.flags&flagEOS != 0 {
			if inPacket {
				t.Fatalf("page %d: EOS inside a packet", i)
			}
			cur = nil
		}
	}
	if cur != nil {
		t.Fatalf("link %08x has no EOS page", cur.serial)
	}
	return out
}

// writeTemp writes data to a file in a test directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ffmpegDecode decodes the Ogg file at path to mono 48 kHz, failing on
// anything ffmpeg reports.
func ffmpegDecode(t *testing.T, path string) []float64 {
	t.Helper()
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-ac", "2", "-ar", "48000", "-")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.Bytes())
	}
	return audiotest.StereoInt16ToMono(stdout.Bytes())
}

// chain is a chained stream of three links of a second each, as the HTTP
// output makes it: packets added as the encoder makes them, a page every
// 10 packets (200 ms), a title change at each link. The first change
// comes with packets pending (they go on the EOS page), the second right
// after a page (the EOS page is empty). mid is the offset of a page
// boundary in the middle of the second link, with its header.
type chain struct {
	data    []byte
	preSkip int
	packets [][][]byte // per link
	mid     int
	header  []byte
}

var (
	chainTitles  = []string{"One", "Two — ünïcode", "Three"}
	chainArtists = []string{"Artist A", "", "Artist C"}
	chainFreqs   = []float64{440, 1000, 660}
)

func makeChain(t testing.TB) chain {
	t.Helper()
	var c chain
	m := NewMuxer(2, 0)
	for i := range chainTitles {
		packets, pre := opusPackets(t, chainFreqs[i], 1, 20)
		m.preSkip, c.preSkip = pre, pre
		c.packets = append(c.packets, packets)
		c.data = append(c.data, m.Begin(chainTitles[i], chainArtists[i])...)
		if !bytes.HasSuffix(c.data, m.Header()) {
			t.Fatal("Begin does not end with Header")
		}
		for j, p := range packets {
			m.Add(p, 960)
			if j%10 == 9 && (i != 0 || j != len(packets)-1) {
				if i == 1 && j == 29 {
					c.mid, c.header = len(c.data), bytes.Clone(m.Header())
				}
				c.data = append(c.data, m.Page()...)
			}
		}
	}
	c.data = append(c.data, m.End()...)
	return c
}

func TestChainStructure(t *testing.T) {
	c := makeChain(t)
	ls := links(t, parsePages(t, c.data), false)
	if len(ls) != 3 {
		t.Fatalf("%d links, want 3", len(ls))
	}
	for i, l := range ls {
		if i > 0 && l.serial == ls[i-1].serial {
			t.Errorf("link %d reuses serial %08x", i, l.serial)
		}
		if len(l.packets) != 2+len(c.packets[i]) {
			t.Fatalf("link %d: %d packets, want %d", i, len(l.packets), 2+len(c.packets[i]))
		}
		head, err := gogg.ParseOpusHead(l.packets[0])
		if err != nil || head.Channels != 2 || int(head.PreSkip) != c.preSkip || head.MappingFamily != 0 {
			t.Fatalf("link %d: OpusHead %+v, %v", i, head, err)
		}
		tags, err := gogg.ParseOpusTags(l.packets[1])
		if err != nil {
			t.Fatalf("link %d: OpusTags: %v", i, err)
		}
		if tags.Vendor != DefaultVendor || tags.Comments["TITLE"] != chainTitles[i] ||
			tags.Comments["ARTIST"] != chainArtists[i] {
			t.Errorf("link %d: tags %+v", i, tags)
		}
		if _, ok := tags.Comments["ARTIST"]; ok != (chainArtists[i] != "") {
			t.Errorf("link %d: ARTIST present %v", i, ok)
		}
		// RFC 7845: OpusHead alone on the BOS page, OpusTags ends its own
		// page, header pages at granule 0.
		if len(l.pages[0].segs) != 1 || l.pages[0].granule != 0 || l.pages[1].granule != 0 ||
			l.pages[1].flags&flagBOS != 0 || len(l.pages[1].segs) != 1 {
			t.Errorf("link %d: header pages %+v %+v", i, l.pages[0], l.pages[1])
		}
		for j, p := range c.packets[i] {
			if !bytes.Equal(l.packets[2+j], p) {
				t.Fatalf("link %d packet %d differs", i, j)
			}
			if g := l.granules[2+j]; g%960 != 0 || g < int64(960*(j+1)) {
				t.Fatalf("link %d packet %d: page granule %d", i, j, g)
			}
		}
		last := l.pages[len(l.pages)-1]
		if last.granule != int64(960*len(c.packets[i])) {
			t.Errorf("link %d ends at granule %d, want %d", i, last.granule, 960*len(c.packets[i]))
		}
	}
	// The first link's last packets went on its EOS page, the second's EOS
	// page is empty.
	if p := ls[0].pages[len(ls[0].pages)-1]; len(p.segs) == 0 {
		t.Error("first link: EOS page without the pending packets")
	}
	if p := ls[1].pages[len(ls[1].pages)-1]; len(p.segs) != 0 {
		t.Errorf("second link: EOS page with %d segments", len(p.segs))
	}
}

// TestLacing checks packets around the 255-byte lacing boundaries and
// runs of packets that need more than one page.
func TestLacing(t *testing.T) {
	sizes := []int{0, 1, 254, 255, 256, 509, 510, 511, 255 * 254, 255*254 - 1, 255 * 255, 70000, 3, 255, 200000}
	m := NewMuxer(1, 0)
	data := m.Begin("t", "a")
	var want [][]byte
	for i, n := range sizes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i + j)
		}
		want = append(want, p)
		m.Add(p, 960)
		if i%4 == 3 {
			data = append(data, m.Page()...)
		}
	}
	// A run of many small packets: more than 255 lacing values.
	for i := range 600 {
		p := []byte{byte(i), byte(i >> 8)}
		want = append(want, p)
		m.Add(p, 120)
	}
	data = append(data, m.Page()...)
	if m.Page() != nil {
		t.Error("Page with nothing added is not nil")
	}
	data = append(data, m.End()...)
	ls := links(t, parsePages(t, data), false)
	if len(ls) != 1 || len(ls[0].packets) != 2+len(want) {
		t.Fatalf("%d links, %d packets", len(ls), len(ls[0].packets))
	}
	for i, p := range want {
		if !bytes.Equal(ls[0].packets[2+i], p) {
			t.Fatalf("packet %d (%d bytes) differs: %d bytes", i, len(p), len(ls[0].packets[2+i]))
		}
	}
	for _, p := range ls[0].pages {
		if len(p.segs) > maxSegments {
			t.Fatalf("page with %d segments", len(p.segs))
		}
	}
	if g := ls[0].granules[len(ls[0].granules)-1]; g != int64(960*len(sizes)+120*600) {
		t.Errorf("final granule %d", g)
	}
}

// TestLongTags puts a title on a continued OpusTags page.
func TestLongTags(t *testing.T) {
	m := NewMuxer(2, 312)
	title := strings.Repeat("long title ", 8000)
	data := m.Begin(title, "x")
	m.Add([]byte{0xfc, 1, 2}, 960)
	data = append(data, m.Page()...)
	data = append(data, m.End()...)
	ls := links(t, parsePages(t, data), false)
	tags, err := gogg.ParseOpusTags(ls[0].packets[1])
	if err != nil || tags.Comments["TITLE"] != title {
		t.Fatalf("tags: %v", err)
	}
	if len(ls[0].pages) < 5 {
		t.Fatalf("%d pages: OpusTags fits one page", len(ls[0].pages))
	}
	for i, p := range ls[0].pages[:len(ls[0].pages)-2] {
		if p.granule != 0 {
			t.Errorf("header page %d with granule %d", i, p.granule)
		}
	}
}

func TestBeforeBegin(t *testing.T) {
	m := NewMuxer(2, 312)
	m.Add([]byte{1, 2, 3}, 960)
	if p := m.Page(); p != nil {
		t.Errorf("Page before Begin: %d bytes", len(p))
	}
	if m.Header() != nil || m.End() != nil {
		t.Error("Header or End before Begin not nil")
	}
	data := m.Begin("a", "b")
	if m.Page() != nil {
		t.Error("a packet added before Begin was kept")
	}
	data = append(data, m.End()...)
	if m.End() != nil {
		t.Error("second End not nil")
	}
	links(t, parsePages(t, data), false)
}

// TestCRCAgainstFFmpeg checks the CRC on pages ffmpeg's own Ogg muxer
// wrote.
func TestCRCAgainstFFmpeg(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "ref.ogg")
	out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
		"-c:a", "opus", "-strict", "-2", "-metadata", "TITLE=reference", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := parsePages(t, data) // fails on any CRC mismatch
	if len(pages) < 3 {
		t.Fatalf("%d pages", len(pages))
	}
}

// TestCRCCheckValue checks the catalogued check value: Ogg's CRC is
// CRC-32/CKSUM (check 0x765e7680) without its final inversion.
func TestCRCCheckValue(t *testing.T) {
	if got := crc([]byte("123456789")); got != 0x765e7680^0xffffffff {
		t.Errorf("crc(123456789) = %08x, want %08x", got, uint32(0x765e7680^0xffffffff))
	}
}

func TestChainDecodes(t *testing.T) {
	c := makeChain(t)
	path := writeTemp(t, "chain.opus", c.data)
	samples := ffmpegDecode(t, path)
	// Each link drops its pre-skip.
	want := 3*48000 - 3*c.preSkip
	if len(samples) != want {
		t.Errorf("decoded %d samples, want %d", len(samples), want)
	}
	for i, f := range chainFreqs {
		seg := samples[i*(48000-c.preSkip):][:48000-c.preSkip]
		seg = seg[4800 : len(seg)-4800]
		if freq, share := audiotest.Dominant(seg, 48000, chainFreqs...); freq != f || share < 0.9 {
			t.Errorf("link %d: %v Hz holding %.2f, want %v Hz", i, freq, share, f)
		}
	}
}

// TestChainTitlesInPlayer plays the chain in mpv, which prints a "File
// tags:" block each time a link's tags arrive. FFmpeg's Ogg demuxer (which
// mpv uses) appends each link's values to the previous ones with ";", so
// the current title is the last item. ffprobe shows only the first link's
// tags.
func TestChainTitlesInPlayer(t *testing.T) {
	mpv := testutil.NeedTool(t, "mpv")
	c := makeChain(t)
	path := writeTemp(t, "chain.opus", c.data)
	out, err := exec.Command(mpv, "--no-config", "--no-video", "--ao=null", "--untimed",
		"--msg-level=all=info", path).CombinedOutput()
	if err != nil {
		t.Fatalf("mpv: %v: %s", err, out)
	}
	var titles []string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Title: "); ok {
			items := strings.Split(v, ";")
			titles = append(titles, items[len(items)-1])
		}
	}
	if strings.Join(titles, "|") != strings.Join(chainTitles, "|") {
		t.Errorf("mpv saw titles %q, want %q\n%s", titles, chainTitles, out)
	}

	ffprobe := testutil.NeedTool(t, "ffprobe")
	out, err = exec.Command(ffprobe, "-v", "error", "-show_streams", "-show_format", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "TAG:TITLE="+chainTitles[0]) {
		t.Errorf("ffprobe: %v: %s", err, out)
	}
}

// TestJoiner decodes what a listener who joins in the middle of the
// second link gets: its header pages, then pages from a page boundary.
func TestJoiner(t *testing.T) {
	c := makeChain(t)
	data := append(bytes.Clone(c.header), c.data[c.mid:]...)
	links(t, parsePages(t, data), true)
	samples := ffmpegDecode(t, writeTemp(t, "join.opus", data))
	// The second link from packet 20 on, less its pre-skip, then the third.
	if want := 30*960 - c.preSkip + 48000 - c.preSkip; len(samples) != want {
		t.Errorf("decoded %d samples, want %d", len(samples), want)
	}
	if freq, share := audiotest.Dominant(samples[4800:20000], 48000, chainFreqs...); freq != 1000 || share < 0.9 {
		t.Errorf("joined: %v Hz holding %.2f", freq, share)
	}
}

func TestNoAllocs(t *testing.T) {
	m := NewMuxer(2, 312)
	m.Begin("a", "b")
	packet := make([]byte, 240)
	for range 100 {
		m.Add(packet, 960)
	}
	m.Page()
	if n := testing.AllocsPerRun(100, func() {
		for range 10 {
			m.Add(packet, 960)
		}
		m.Page()
	}); n != 0 {
		t.Errorf("%v allocations per page", n)
	}
}

// BenchmarkAddPage adds 20 ms packets of 240 bytes (96 kbit/s) and pages
// them every 10 packets; one op is one packet.
func BenchmarkAddPage(b *testing.B) {
	m := NewMuxer(2, 312)
	m.Begin("a", "b")
	packet := make([]byte, 240)
	b.ReportAllocs()
	b.SetBytes(int64(len(packet)))
	i := 0
	for b.Loop() {
		m.Add(packet, 960)
		if i++; i%10 == 0 {
			m.Page()
		}
	}
}
