// Package oggopus wraps a station's Opus packets in a chained Ogg stream
// (RFC 3533, RFC 7845) for HTTP listeners, as Icecast serves Ogg: at each
// title change the current logical stream ends and a new one begins, whose
// OpusTags carry the new TITLE and ARTIST. Players show the new title when
// the new link starts.
//
// The muxer only makes bytes; it keeps the current link's header pages,
// which a listener who joins mid-stream must be sent before any audio page.
// gopus's and pion's Ogg writers write one logical stream to an io.Writer,
// one packet per page, and neither can chain or hand out its headers, so
// the page format is written here: it is small.
package oggopus

import (
	"encoding/binary"
	"math/rand/v2"
)

// Page header flags.
const (
	flagContinued = 0x01
	flagBOS       = 0x02
	flagEOS       = 0x04
)

// headerSize is the fixed part of a page header, before the segment table.
const headerSize = 27

// maxSegments is the most lacing values one page can hold.
const maxSegments = 255

// noGranule marks a page on which no packet ends (RFC 3533: -1).
const noGranule = -1

// DefaultVendor is the OpusTags vendor string when Muxer.Vendor is empty.
const DefaultVendor = "onair"

// Muxer groups Opus packets (48 kHz) into the pages of a chained Ogg Opus
// stream. It is not safe for concurrent use; what Header and Begin return
// is never modified afterwards and may be shared.
type Muxer struct {
	// Vendor is written in each new link's OpusTags; empty means
	// DefaultVendor.
	Vendor string

	channels int
	preSkip  int

	open    bool
	serial  uint32
	seq     uint32 // sequence number of the link's next page
	granule int64  // samples in the link's packets already paged

	header []byte // the link's header pages

	// Packets added since the last page: their bytes back to back, their
	// lengths and the link's granule after each.
	data     []byte
	lens     []int
	granules []int64
	pending  int64 // samples in pending packets

	page []byte // Page's result, reused
}

// NewMuxer returns a Muxer for Opus streams of channels channels (1 or 2:
// channel mapping family 0). preSkip goes in every link's OpusHead: a
// decoder drops that many samples (48 kHz) at the start of each link. Pass
// the encoder's lookahead (gopus's Encoder.Lookahead, 312): the first link
// needs it, and in later links, which continue the same encoder, it costs
// 6.5 ms of sound at each title change but hides the cold start of a
// decoder that resets at a new link (libopusfile's does) or joins
// mid-link. No link is open until Begin.
func NewMuxer(channels, preSkip int) *Muxer {
	return &Muxer{channels: channels, preSkip: preSkip}
}

// Begin ends the current link, if one is open, with an end-of-stream page
// holding the packets not yet paged, and starts a new link with a new
// serial: its OpusHead page and OpusTags page(s) with title and artist
// (each left out when empty). It returns those pages, the end of the old
// link first (see End); the new link's header pages are also kept for
// Header. The serial is random and differs from the previous link's.
func (m *Muxer) Begin(title, artist string) []byte {
	out := m.End()
	serial := rand.Uint32()
	for serial == m.serial {
		serial = rand.Uint32()
	}
	m.serial, m.seq, m.granule, m.open = serial, 0, 0, true

	head := m.opusHead()
	tags := m.opusTags(title, artist)
	hdr := make([]byte, 0, 2*headerSize+2+len(head)+len(tags)/maxSegments+1+len(tags))
	hdr = m.appendHeaderPage(hdr, head, flagBOS)
	hdr = m.appendHeaderPage(hdr, tags, 0)
	m.header = hdr
	return append(out, hdr...)
}

// End ends the current link with an end-of-stream page holding the packets
// not yet paged, for a stream that stops, and returns that page; nil when
// no link is open. Header is nil until the next Begin.
func (m *Muxer) End() []byte {
	if !m.open {
		return nil
	}
	out := m.appendPages(nil, flagEOS)
	m.open, m.header = false, nil
	return out
}

// Header returns the current link's header pages, which a listener joining
// mid-stream needs before the next page Page returns; nil before Begin.
func (m *Muxer) Header() []byte { return m.header }

// Add queues one Opus packet of samples samples (per channel, at 48 kHz)
// for the next Page. packet is copied. Packets added before Begin are
// dropped: there is no link to put them in.
func (m *Muxer) Add(packet []byte, samples int) {
	if !m.open {
		return
	}
	m.data = append(m.data, packet...)
	m.lens = append(m.lens, len(packet))
	m.pending += int64(samples)
	m.granules = append(m.granules, m.granule+m.pending)
}

// Page returns every packet added since the last Page as one page (or as
// several back to back, when they need more than 255 lacing values), its
// granule position the samples of the link ended by its last packet; nil
// when there are none. The result is valid until the next call of Page or
// Begin: copy it to keep it.
func (m *Muxer) Page() []byte {
	if len(m.lens) == 0 {
		return nil
	}
	m.page = m.appendPages(m.page[:0], 0)
	return m.page
}

// appendPages appends the pending packets to dst as pages, flags on the
// last page, and empties the queue. With no packet pending and flagEOS,
// it appends an empty end-of-stream page.
func (m *Muxer) appendPages(dst []byte, last byte) []byte {
	var (
		segs    [maxSegments]byte
		nseg    int
		start   int   // offset in m.data of the page's first byte
		off     int   // offset in m.data of the next byte to lace
		granule int64 = noGranule
		cont    byte  // flagContinued when the page starts inside a packet
	)
	flush := func(flags byte) {
		dst = m.appendPage(dst, cont|flags, granule, segs[:nseg], m.data[start:off])
		start, nseg, granule = off, 0, noGranule
	}
	for i, n := range m.lens {
		// Start a packet on a fresh page rather than split it, unless it
		// alone needs more than a page.
		if need := n/255 + 1; nseg > 0 && nseg+need > maxSegments {
			flush(0)
			cont = 0
		}
		for left := n; ; left -= 255 {
			if nseg == maxSegments {
				flush(0)
				cont = flagContinued
			}
			seg := min(left, 255)
			segs[nseg] = byte(seg)
			nseg++
			off += seg
			if seg < 255 {
				break
			}
		}
		granule = m.granules[i]
	}
	if nseg > 0 || last&flagEOS != 0 {
		if nseg == 0 {
			granule = m.granule
		}
		flush(last)
	}
	m.granule += m.pending
	m.data, m.lens, m.granules, m.pending = m.data[:0], m.lens[:0], m.granules[:0], 0
	return dst
}

// appendHeaderPage appends packet, an OpusHead or OpusTags packet, on its
// own page(s) with granule position 0, as RFC 7845 wants of header pages.
func (m *Muxer) appendHeaderPage(dst, packet []byte, flags byte) []byte {
	var segs [maxSegments]byte
	var cont byte
	for {
		nseg, size := 0, 0
		for nseg < maxSegments {
			seg := min(len(packet)-size, 255)
			segs[nseg] = byte(seg)
			nseg++
			size += seg
			if seg < 255 {
				break
			}
		}
		dst = m.appendPage(dst, cont|flags, 0, segs[:nseg], packet[:size])
		packet = packet[size:]
		flags &^= flagBOS
		if segs[nseg-1] < 255 {
			return dst
		}
		cont = flagContinued
	}
}

// appendPage appends one page of the current link.
func (m *Muxer) appendPage(dst []byte, flags byte, granule int64, segs, body []byte) []byte {
	at := len(dst)
	dst = append(dst, "OggS"...)
	dst = append(dst, 0, flags)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(granule))
	dst = binary.LittleEndian.AppendUint32(dst, m.serial)
	dst = binary.LittleEndian.AppendUint32(dst, m.seq)
	dst = append(dst, 0, 0, 0, 0, byte(len(segs)))
	dst = append(dst, segs...)
	dst = append(dst, body...)
	binary.LittleEndian.PutUint32(dst[at+22:], crc(dst[at:]))
	m.seq++
	return dst
}

// opusHead is the identification header (RFC 7845 §5.1), channel mapping
// family 0.
func (m *Muxer) opusHead() []byte {
	b := make([]byte, 0, 19)
	b = append(b, "OpusHead"...)
	b = append(b, 1, byte(m.channels))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.preSkip))
	b = binary.LittleEndian.AppendUint32(b, 48000) // input rate, informational
	b = binary.LittleEndian.AppendUint16(b, 0)     // output gain
	return append(b, 0)                            // mapping family
}

// opusTags is the comment header (RFC 7845 §5.2).
func (m *Muxer) opusTags(title, artist string) []byte {
	vendor := m.Vendor
	if vendor == "" {
		vendor = DefaultVendor
	}
	var comments []string
	if title != "" {
		comments = append(comments, "TITLE="+title)
	}
	if artist != "" {
		comments = append(comments, "ARTIST="+artist)
	}
	b := append([]byte(nil), "OpusTags"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vendor)))
	b = append(b, vendor...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(comments)))
	for _, c := range comments {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}
