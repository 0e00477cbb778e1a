package rtc

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv4"
)

// batchMax is how many datagrams one sendmmsg carries. Measured here: a
// system call costs ≈ 4 µs and a datagram ≈ 1.4 µs more, so 64 per call
// is within a few percent of the best a batch can do.
const batchMax = 64

// batchSlot is the largest datagram a batch holds; a larger one is
// written through. An SRTP packet of onair's is at most rtpMTU + 16
// (AES-GCM tag); STUN and RTCP are smaller.
const batchSlot = 1500

// batchConn is the UDP socket under pion's ICE UDP mux. While a shard fans
// a packet out (between hold and release), it queues the datagrams and
// sends them with sendmmsg, batchMax per system call; otherwise (STUN,
// RTCP, DTLS) it writes each at once. It implements pion's
// AddrPortReaderWriter, so the mux stays on its allocation-free path.
//
// Queued datagrams are copies: the caller may reuse its buffer at once.
// A datagram the kernel refuses is dropped and counted, as UDP would have
// lost it; the rest of its batch is still sent.
type batchConn struct {
	*net.UDPConn
	pc *ipv4.PacketConn

	// intercept, when set, sees each datagram read before the reader
	// does and keeps those it returns true for: the lite listeners'.
	intercept func(c *batchConn, b []byte, from netip.AddrPort) bool

	mu    sync.Mutex
	holds int // fan-outs in progress
	msgs  []ipv4.Message
	bufs  [][]byte
	addrs []net.UDPAddr
	n     int // datagrams queued

	batches atomic.Int64 // sendmmsg calls
	sent    atomic.Int64 // datagrams sent in batches
	failed  atomic.Int64 // datagrams the kernel refused in a batch
}

func newBatchConn(c *net.UDPConn) *batchConn {
	b := &batchConn{
		UDPConn: c,
		pc:      ipv4.NewPacketConn(c),
		msgs:    make([]ipv4.Message, batchMax),
		bufs:    make([][]byte, batchMax),
		addrs:   make([]net.UDPAddr, batchMax),
	}
	for i := range b.msgs {
		b.bufs[i] = make([]byte, batchSlot)
		b.addrs[i].IP = make(net.IP, 0, net.IPv6len)
		b.msgs[i].Buffers = [][]byte{nil}
		b.msgs[i].Addr = &b.addrs[i]
	}
	return b
}

// hold starts a fan-out: datagrams queue until the last hold is released.
func (b *batchConn) hold() {
	b.mu.Lock()
	b.holds++
	b.mu.Unlock()
}

// release ends a fan-out; the last one sends what is queued.
func (b *batchConn) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holds--
	if b.holds == 0 {
		b.flush()
	}
}

// WriteToAddrPort queues p during a fan-out, else sends it now.
func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	b.mu.Lock()
	if b.holds == 0 || len(p) > batchSlot || !addr.Addr().Unmap().Is4() {
		b.mu.Unlock()
		return b.WriteToUDPAddrPort(p, addr)
	}
	i := b.n
	n := copy(b.bufs[i], p)
	b.msgs[i].Buffers[0] = b.bufs[i][:n]
	a := &b.addrs[i]
	ip4 := addr.Addr().Unmap().As4()
	a.IP = append(a.IP[:0], ip4[:]...)
	a.Port = int(addr.Port())
	b.n++
	if b.n == batchMax {
		b.flush()
	}
	b.mu.Unlock()
	return len(p), nil
}

// ReadFromAddrPort reads a datagram without allocating its address,
// past those intercept keeps.
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for {
		n, from, err := b.ReadFromUDPAddrPort(p)
		if err != nil || b.intercept == nil || !b.intercept(b, p[:n], from) {
			return n, from, err
		}
	}
}

// ReadFrom is ReadFromAddrPort for readers that want a net.Addr.
func (b *batchConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := b.ReadFromAddrPort(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteTo is WriteToAddrPort for callers that hold a net.Addr.
func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); ok {
		return b.WriteToAddrPort(p, ua.AddrPort())
	}
	return b.UDPConn.WriteTo(p, addr)
}

// flush sends every queued datagram. The caller holds mu.
func (b *batchConn) flush() {
	msgs := b.msgs[:b.n]
	for len(msgs) > 0 {
		n, err := b.pc.WriteBatch(msgs, 0)
		if n > 0 {
			b.batches.Add(1)
			b.sent.Add(int64(n))
			msgs = msgs[n:]
		}
		if err != nil {
			// The first unsent datagram is the one refused: drop it
			// and go on with the rest.
			b.failed.Add(1)
			msgs = msgs[1:]
		} else if n == 0 {
			b.failed.Add(int64(len(msgs)))
			break
		}
	}
	b.n = 0
}

// Close sends what is queued, then closes the socket.
func (b *batchConn) Close() error {
	b.mu.Lock()
	b.flush()
	b.mu.Unlock()
	return b.UDPConn.Close()
}
