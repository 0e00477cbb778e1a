package rtc

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/stun/v4"
)

// The lite transport: what a listener that only receives one shared
// audio track needs of WebRTC, and nothing more. Per listener, a pion
// PeerConnection runs an ICE agent, a DTLS connection, SCTP, interceptors
// and about fourteen goroutines with their buffers and timers; a lite
// listener is a table entry, an SRTP context and a few hundred bytes:
//
//   - ICE-lite (RFC 8445 §2.5): the server has host candidates only (its
//     lane's socket) and answers the browser's connectivity checks with
//     pion/stun; the browser, the controlling agent, nominates.
//   - DTLS-SRTP (RFC 5764): the server is the DTLS server (a=setup:passive)
//     and runs pion/dtls for the key exchange only; once the browser has
//     had time to finish, the DTLS connection is let go.
//   - SRTP with pion/srtp: the shard packs each RTP packet once and seals
//     it per listener, then the lane's socket sends the datagrams in
//     sendmmsg batches.
//
// Incoming datagrams reach a lite listener through its lane's socket:
// batchConn hands each one to the lane's liteTable before pion's UDP mux
// sees it, so WHIP's pion peers share the port.

// liteTimeout is how long a lite listener may stay silent (no check, no
// RTCP) before it is given up. Browsers check a nominated pair every
// 2.5 s or so and send receiver reports; pion's own timeout is 15 s.
const liteTimeout = 15 * time.Second

// liteConnectTimeout bounds how long a lite listener may take from its
// answer to its keys.
const liteConnectTimeout = 20 * time.Second

// dtlsLinger is how long the DTLS connection is kept after its handshake,
// in case the browser lost the server's last flight and sends its own
// again; then only the keys are kept.
const dtlsLinger = 10 * time.Second

// sweepEvery is how often silent lite listeners are looked for.
const sweepEvery = 2 * time.Second

// lite reports whether listeners use the lite transport.
func (w *Server) lite() bool { return !w.PionPeers && !w.PortPerPeer }

// liteSetup makes what the lite transport shares: the server's DTLS
// certificate and the addresses answers advertise. The sweeper starts once
// the lanes are made (startSweep).
func (w *Server) liteSetup() error {
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return fmt.Errorf("rtc: dtls certificate: %w", err)
	}
	x, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("rtc: dtls certificate: %w", err)
	}
	fp, err := fingerprint.Fingerprint(x, fingerprintHash)
	if err != nil {
		return fmt.Errorf("rtc: dtls certificate fingerprint: %w", err)
	}
	w.cert, w.fingerprint = cert, strings.ToUpper(fp)
	if w.silence == 0 {
		w.silence, w.connectWithin, w.sweepEvery = liteTimeout, liteConnectTimeout, sweepEvery
	}
	return nil
}

// startSweep starts the sweeper of silent listeners; Close stops it.
func (w *Server) startSweep() {
	w.sweepStop, w.sweepDone = make(chan struct{}), make(chan struct{})
	go w.sweep()
}

// sweep closes lite listeners that went silent, or never connected, until
// the server closes.
func (w *Server) sweep() {
	defer close(w.sweepDone)
	tick := time.NewTicker(w.sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.sweepStop:
			return
		case now := <-tick.C:
			for _, l := range w.lanes {
				for _, p := range l.lite.silent(now) {
					p.t.goClose(p)
				}
			}
		}
	}
}

// liteTable finds a lane's lite listener by what a datagram carries: the
// ICE username of a check, or the address a checked pair's datagrams come
// from (DTLS, SRTCP).
type liteTable struct {
	loopbackOnly bool

	mu      sync.RWMutex
	byUfrag map[string]*litePeer
	byAddr  map[netip.AddrPort]*litePeer
}

func newLiteTable(loopbackOnly bool) *liteTable {
	return &liteTable{loopbackOnly: loopbackOnly, byUfrag: map[string]*litePeer{}, byAddr: map[netip.AddrPort]*litePeer{}}
}

// add makes p findable by its ICE username fragment.
func (l *liteTable) add(p *litePeer, ufrag string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byUfrag[ufrag] = p
}

// remove forgets p under every key it had.
func (l *liteTable) remove(p *litePeer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Only its current fragment is in the table: replace drops the old.
	if c := p.creds.Load(); c != nil && l.byUfrag[c.ufrag] == p {
		delete(l.byUfrag, c.ufrag)
	}
	for _, a := range p.addrs {
		if l.byAddr[a] == p {
			delete(l.byAddr, a)
		}
	}
	p.addrs = nil
}

// replace gives p new ICE credentials in place of those under the old
// fragment (an ICE restart), unless p has left the table.
func (l *liteTable) replace(p *litePeer, old string, c *iceCreds) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byUfrag[old] != p {
		return
	}
	delete(l.byUfrag, old)
	p.creds.Store(c)
	l.byUfrag[c.ufrag] = p
}

// bind records that from passed a check of p's; a nominated pair (or
// the first one) becomes where p's media goes.
func (l *liteTable) bind(p *litePeer, from netip.AddrPort, nominated bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[from] != p {
		// A check with p's credentials shows the address is p's now,
		// even if another listener (a closed page's, not yet given up)
		// had it: its entry goes, and so does its media there.
		if q := l.byAddr[from]; q != nil {
			if r := q.route.Load(); r != nil && r.tcp == nil && r.udp == from {
				q.route.Store(&liteRoute{}) // nowhere
			}
		}
		l.byAddr[from] = p
		p.addrs = append(p.addrs, from)
	}
	if nominated || p.route.Load() == nil {
		p.route.Store(&liteRoute{udp: from})
	}
}

// find returns the lite listener a connectivity check is for, or nil.
func (l *liteTable) find(m *stun.Message) *litePeer {
	var user stun.Username
	if err := user.GetFrom(m); err != nil {
		return nil
	}
	local, _, _ := strings.Cut(string(user), ":")
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.byUfrag[local]
}

// silent returns the listeners that have said nothing for liteTimeout, or
// have not connected within liteConnectTimeout.
func (l *liteTable) silent(now time.Time) []*litePeer {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []*litePeer
	for _, p := range l.byUfrag {
		if p.silent(now) {
			out = append(out, p)
		}
	}
	return out
}

// handle takes the datagrams of the lane's lite listeners; it returns
// false for any other (pion's peers), which then reach pion's UDP mux. It
// runs on the mux's read loop: b is only valid during the call.
func (l *liteTable) handle(conn *batchConn, b []byte, from netip.AddrPort) bool {
	if len(b) == 0 {
		return false
	}
	if l.loopbackOnly && !from.Addr().Unmap().IsLoopback() {
		return true // never answered: loopback only
	}
	if stun.IsMessage(b) {
		return l.check(conn, b, from)
	}
	l.mu.RLock()
	p := l.byAddr[from]
	l.mu.RUnlock()
	if p == nil {
		return false
	}
	p.heard()
	switch c := b[0]; {
	case c >= 20 && c <= 63: // DTLS (RFC 7983)
		p.dtlsIn(b, &liteRoute{udp: from})
	case c >= 128 && c <= 191:
		// SRTCP: the browser's receiver reports. They say it is there
		// and has its keys; their content is nothing the server acts on.
		p.srtcp()
	}
	return true
}

// check answers a connectivity check (a STUN binding request) of one of
// the lane's lite listeners.
func (l *liteTable) check(conn *batchConn, b []byte, from netip.AddrPort) bool {
	m := &stun.Message{Raw: b}
	if err := m.Decode(); err != nil {
		return false
	}
	if m.Type != stun.BindingRequest {
		// An indication or a stray response from a listener's address is
		// the listener's (it is alive); pion's peers get the rest.
		l.mu.RLock()
		p := l.byAddr[from]
		l.mu.RUnlock()
		if p != nil {
			p.heard()
		}
		return p != nil
	}
	p := l.find(m)
	if p == nil {
		return false
	}
	resp, ok := p.checked(m, from)
	if !ok {
		return true // not the browser's: dropped, as ICE says
	}
	l.bind(p, from, m.Contains(stun.AttrUseCandidate))
	_, _ = conn.WriteToAddrPort(resp, from) // lost like any datagram: the browser checks again
	return true
}

// checked verifies a check of p's that came from from and returns the
// response to send, or false for a check that is not the browser's.
func (p *litePeer) checked(m *stun.Message, from netip.AddrPort) ([]byte, bool) {
	integrity := stun.NewShortTermIntegrity(p.creds.Load().pwd)
	if integrity.Check(m) != nil {
		return nil, false
	}
	if m.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(m) != nil {
		return nil, false
	}
	p.heard()
	ip := from.Addr().Unmap().AsSlice()
	resp, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: net.IP(ip), Port: int(from.Port())}, integrity, stun.Fingerprint)
	if err != nil {
		return nil, false
	}
	return resp.Raw, true
}

// liteRoute is where a lite listener's datagrams go: a UDP address on its
// lane's socket, or an ICE-TCP connection.
type liteRoute struct {
	udp netip.AddrPort
	tcp *tcpLink
}

// write sends b on the route.
func (r *liteRoute) write(conn *batchConn, b []byte) {
	switch {
	case r.tcp != nil:
		r.tcp.send(b)
	case r.udp.IsValid():
		_, _ = conn.WriteToAddrPort(b, r.udp) // a refused datagram is counted by the socket
	}
	// Else nowhere: the address went to another listener.
}

// iceCreds are a lite listener's ICE username fragment and password.
type iceCreds struct{ ufrag, pwd string }

// newICECreds makes random ICE credentials: 8 and 24 characters of the
// ice-char set (RFC 8839 asks for at least 4 and 22).
func newICECreds() iceCreds {
	return iceCreds{ufrag: iceString(8), pwd: iceString(24)}
}

const iceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func iceString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand does not fail
	for i := range b {
		b[i] = iceChars[int(b[i])%len(iceChars)]
	}
	return string(b)
}

// randomSSRC is a track's synchronisation source for lite listeners.
func randomSSRC() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:]) | 1
}

// liteServerState is the part of Server the lite transport fills in.
type liteServerState struct {
	cert        tls.Certificate
	fingerprint string // sha-256 of cert, as the answer's a=fingerprint
	sweepStop   chan struct{}
	sweepDone   chan struct{}
	dtlsWG      sync.WaitGroup // handshakes in progress

	// liteTimeout, liteConnectTimeout and sweepEvery, unless a test set
	// them before the server's set-up.
	silence, connectWithin, sweepEvery time.Duration
}

// advertised is the addresses lite answers name: webrtc.public_ips, else
// 127.0.0.1 when loopback only, else the machine's own IPv4 addresses
// (the lanes listen on all of them).
func (w *Server) advertised() ([]string, error) {
	if len(w.PublicIPs) > 0 {
		// The lanes are IPv4 sockets.
		var v4 []string
		for _, ip := range w.PublicIPs {
			if a, err := netip.ParseAddr(ip); err == nil && a.Unmap().Is4() {
				v4 = append(v4, a.Unmap().String())
			}
		}
		if len(v4) == 0 {
			return nil, errNoAddress
		}
		return v4, nil
	}
	if w.LoopbackOnly {
		return []string{"127.0.0.1"}, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("rtc: the machine's addresses: %w", err)
	}
	var out []string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip := n.IP.To4()
		if ip == nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		return nil, errNoAddress
	}
	return out, nil
}
