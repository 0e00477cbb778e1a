package live

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/onairfm/onair/audio/oggopus"
)

// Ogg framing (RFC 3533). A page is at most 27 + 255 + 255*255 bytes, so a
// page buffer is bounded; a packet may span pages and is bounded by
// maxPacket.
const (
	oggHeaderLen = 27
	maxPacket    = 256 << 10
)

// Page header flags.
const (
	oggContinued = 0x01
	oggBOS       = 0x02
	oggEOS       = 0x04
)

// oggReader splits one Ogg stream into packets. It follows chained
// streams (a new logical stream after the previous one ended, as Icecast
// sources start one per title) and refuses multiplexed ones: a live
// source carries one audio stream.
type oggReader struct {
	r      io.Reader
	hdr    [oggHeaderLen + 255]byte
	page   []byte // the current page's body
	segs   []byte // its lacing values
	seg    int    // next segment of the page
	off    int    // offset of that segment in page
	serial uint32
	bos    bool // the current page begins a logical stream
	open   bool // a logical stream is open (no EOS seen)
	packet []byte
	pages  int64
}

func newOggReader(r io.Reader) *oggReader {
	return &oggReader{r: r, page: make([]byte, 0, 255*255)}
}

// next returns the next packet and whether it is the first of a new
// logical stream. The packet is valid until the next call.
func (o *oggReader) next() (p []byte, first bool, err error) {
	o.packet = o.packet[:0]
	for {
		for o.seg < len(o.segs) {
			n := int(o.segs[o.seg])
			if len(o.packet)+n > maxPacket {
				return nil, false, fmt.Errorf("live: ogg: packet over %d bytes: %w", maxPacket, ErrTooLarge)
			}
			first = first || (o.bos && len(o.packet) == 0 && o.off == 0)
			o.packet = append(o.packet, o.page[o.off:o.off+n]...)
			o.seg++
			o.off += n
			if n < 255 {
				return o.packet, first, nil
			}
		}
		if err := o.readPage(len(o.packet) > 0); err != nil {
			return nil, false, err
		}
	}
}

// readPage reads the next page; cont says a packet is waiting for its
// continuation.
func (o *oggReader) readPage(cont bool) error {
	h := o.hdr[:oggHeaderLen]
	if _, err := io.ReadFull(o.r, h); err != nil {
		if err == io.ErrUnexpectedEOF || (err == io.EOF && o.pages > 0) {
			return io.EOF
		}
		return err
	}
	if string(h[:4]) != "OggS" || h[4] != 0 {
		return fmt.Errorf("live: ogg: no page at page %d: %w", o.pages, ErrGarbage)
	}
	flags := h[5]
	serial := binary.LittleEndian.Uint32(h[14:])
	nsegs := int(h[26])
	segs := o.hdr[oggHeaderLen : oggHeaderLen+nsegs]
	if _, err := io.ReadFull(o.r, segs); err != nil {
		return io.EOF
	}
	size := 0
	for _, s := range segs {
		size += int(s)
	}
	o.page = o.page[:size]
	if _, err := io.ReadFull(o.r, o.page); err != nil {
		return io.EOF
	}
	want := binary.LittleEndian.Uint32(h[22:])
	h[22], h[23], h[24], h[25] = 0, 0, 0, 0
	crc := oggopus.CRC(oggopus.CRC(oggopus.CRC(0, h), segs), o.page)
	if crc != want {
		return fmt.Errorf("live: ogg: bad checksum at page %d: %w", o.pages, ErrGarbage)
	}
	o.pages++
	switch {
	case flags&oggBOS != 0:
		if o.open {
			return fmt.Errorf("live: ogg: a second logical stream inside the first (multiplexed Ogg): %w", ErrUnsupported)
		}
		if cont {
			return fmt.Errorf("live: ogg: a stream began inside a packet: %w", ErrGarbage)
		}
		o.serial, o.open, o.bos = serial, true, true
	case !o.open || serial != o.serial:
		return fmt.Errorf("live: ogg: page of stream %08x outside its stream: %w", serial, ErrGarbage)
	default:
		o.bos = false
		if cont != (flags&oggContinued != 0) {
			if cont {
				return fmt.Errorf("live: ogg: a packet lost its continuation at page %d: %w", o.pages, ErrGarbage)
			}
			// A continuation of a packet we never saw the start of: skip
			// its first segments up to the end of that packet.
			o.segs, o.seg, o.off = segs, 0, 0
			for o.seg < len(segs) {
				n := int(segs[o.seg])
				o.seg++
				o.off += n
				if n < 255 {
					break
				}
			}
			if flags&oggEOS != 0 {
				o.open = false
			}
			return nil
		}
	}
	if flags&oggEOS != 0 {
		o.open = false
	}
	o.segs, o.seg, o.off = segs, 0, 0
	return nil
}
