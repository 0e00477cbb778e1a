package rtc

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v4"
)

// ICE over TCP for lite listeners: RFC 6544 passive candidates on ICE-TCP's
// port, each packet framed with its 16-bit length (RFC 4571). The port is
// shared with pion's TCP mux (WHIP's peers): tcpSplitter reads each new
// connection's first packet, a connectivity check, and keeps those whose
// ICE username is a lite listener's.

// tcpFirstWait bounds how long a new connection may take to send its
// first check.
const tcpFirstWait = 10 * time.Second

// tcpQueue is how many packets may wait for a slow ICE-TCP connection
// (about a second of audio) before packets are dropped for it: the
// fan-out never waits on one listener.
const tcpQueue = 64

// tcpSplitter is ICE-TCP's listener as pion's TCP mux sees it.
type tcpSplitter struct {
	net.Listener
	w     *Server
	conns chan net.Conn // for pion's mux
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup // the accept loop, sorting and links

	mu      sync.Mutex
	links   map[*tcpLink]struct{} // the lite connections, closed with the port
	sorting map[net.Conn]struct{} // connections whose first packet is awaited
}

// tcpSorting bounds the connections that may wait for their first packet
// at once: each holds a goroutine for up to tcpFirstWait, and a client
// that opens many and sends nothing only gets its newest ones closed.
const tcpSorting = 256

func newTCPSplitter(ln net.Listener, w *Server) *tcpSplitter {
	s := &tcpSplitter{Listener: ln, w: w, conns: make(chan net.Conn), done: make(chan struct{}),
		links: map[*tcpLink]struct{}{}, sorting: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s
}

func (s *tcpSplitter) accept() {
	defer s.wg.Done()
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		refuse := len(s.sorting) >= tcpSorting
		select {
		case <-s.done: // closed while this one was accepted
			refuse = true
		default:
		}
		if !refuse {
			s.sorting[c] = struct{}{}
		}
		s.mu.Unlock()
		if refuse {
			_ = c.Close()
			continue
		}
		s.wg.Add(1)
		go s.sort(c)
	}
}

// Accept returns the connections that are not lite listeners'.
func (s *tcpSplitter) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close closes the port and every lite connection, and waits for their
// goroutines.
func (s *tcpSplitter) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		close(s.done)
		s.mu.Unlock()
		err = s.Listener.Close()
		s.mu.Lock()
		for k := range s.links {
			k.close()
		}
		for c := range s.sorting {
			_ = c.Close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	return err
}

// sort reads c's first packet and keeps c for a lite listener, or hands
// it to pion's mux with that packet still to be read.
func (s *tcpSplitter) sort(c net.Conn) {
	defer s.wg.Done()
	_ = c.SetReadDeadline(time.Now().Add(tcpFirstWait))
	first, err := readFrame(c)
	_ = c.SetReadDeadline(time.Time{})
	s.mu.Lock()
	delete(s.sorting, c)
	s.mu.Unlock()
	if err != nil {
		_ = c.Close()
		return
	}
	if p := s.lite(first); p != nil {
		s.serve(c, p, first)
		return
	}
	head := binary.BigEndian.AppendUint16(nil, uint16(len(first)))
	select {
	case s.conns <- &replayConn{Conn: c, pending: append(head, first...)}:
	case <-s.done:
		_ = c.Close()
	}
}

// lite returns the lite listener a connection's first packet checks for.
func (s *tcpSplitter) lite(first []byte) *litePeer {
	if !stun.IsMessage(first) {
		return nil
	}
	m := &stun.Message{Raw: append([]byte(nil), first...)}
	if m.Decode() != nil || m.Type != stun.BindingRequest {
		return nil
	}
	for _, l := range s.w.lanes {
		if l.lite == nil {
			continue
		}
		if p := l.lite.find(m); p != nil {
			return p
		}
	}
	return nil
}

// serve runs a lite listener's ICE-TCP connection until it closes.
func (s *tcpSplitter) serve(c net.Conn, p *litePeer, first []byte) {
	from := addrPortOf(c.RemoteAddr())
	if s.w.LoopbackOnly && !from.Addr().Unmap().IsLoopback() {
		_ = c.Close()
		return
	}
	k := &tcpLink{conn: c, out: make(chan []byte, tcpQueue), done: make(chan struct{})}
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		_ = c.Close()
		return
	default:
	}
	s.links[k] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.links, k)
		s.mu.Unlock()
	}()
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		_ = c.Close()
		return
	default:
	}
	p.links = append(p.links, k)
	p.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		k.write()
	}()
	route := &liteRoute{tcp: k}
	pkt := first
	for {
		switch {
		case stun.IsMessage(pkt):
			m := &stun.Message{Raw: pkt}
			if m.Decode() == nil && m.Type == stun.BindingRequest {
				if resp, ok := p.checked(m, from); ok {
					if m.Contains(stun.AttrUseCandidate) || p.route.Load() == nil {
						p.route.Store(route)
					}
					k.send(resp)
				}
			}
		case len(pkt) > 0 && pkt[0] >= 20 && pkt[0] <= 63:
			p.heard()
			p.dtlsIn(pkt, route)
		default:
			p.heard() // SRTCP
			p.srtcp()
		}
		var err error
		if pkt, err = readFrame(c); err != nil {
			break
		}
	}
	k.close()
	if p.route.Load() == route {
		p.t.goClose(p) // its media's connection is gone
	}
}

// readFrame reads one RFC 4571 frame.
func readFrame(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// tcpLink is a lite listener's ICE-TCP connection: packets are framed and
// queued, and its own goroutine writes them, so a slow reader never holds
// up the fan-out.
type tcpLink struct {
	conn    net.Conn
	out     chan []byte
	done    chan struct{}
	once    sync.Once
	dropped atomic.Int64
}

// send queues a copy of b, framed, or drops it when the queue is full.
func (k *tcpLink) send(b []byte) {
	f := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(f, uint16(len(b)))
	copy(f[2:], b)
	select {
	case k.out <- f:
	case <-k.done:
	default:
		k.dropped.Add(1)
	}
}

func (k *tcpLink) write() {
	for {
		select {
		case f := <-k.out:
			if _, err := k.conn.Write(f); err != nil {
				k.close()
				return
			}
		case <-k.done:
			return
		}
	}
}

func (k *tcpLink) close() {
	k.once.Do(func() {
		close(k.done)
		_ = k.conn.Close()
	})
}

// replayConn is a connection whose first bytes were read already: they are
// read again first.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(b []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(b, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// addr is the route's remote address, for DTLS.
func (r *liteRoute) addr() net.Addr {
	if r.tcp != nil {
		return r.tcp.conn.RemoteAddr()
	}
	return net.UDPAddrFromAddrPort(r.udp)
}

func (r *liteRoute) String() string { return r.addr().String() }

// addrPortOf is a TCP address as an AddrPort.
func addrPortOf(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	return netip.AddrPort{}
}
