package rtc

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/deadline"

	"github.com/onairfm/onair"
)

// fingerprintHash is the hash of the server's certificate in answers.
const fingerprintHash = crypto.SHA256

// dtlsQueue is how many DTLS datagrams may wait for a handshake: a
// browser's flight is a few, fragments included.
const dtlsQueue = 16

// litePeer is a listener on the lite transport (see lite.go): ICE-lite
// and DTLS for the keys, then an SRTP context its shard seals the
// station's packets with.
type litePeer struct {
	w       *Server
	t       *Track
	sh      *shard
	l       *lane
	onClose func()
	aud     audience
	created time.Time

	creds atomic.Pointer[iceCreds]  // the server's ICE credentials
	route atomic.Pointer[liteRoute] // where media goes: the nominated pair
	seen  atomic.Int64              // unix nanoseconds of the last datagram

	// The DTLS connection while it lingers after its handshake.
	lingering atomic.Pointer[dtls.Conn]

	// Set once the keys are known, before the peer joins its shard's list;
	// from then on used by the shard's goroutine only.
	srtp *srtp.Context
	pt   uint8

	mu        sync.Mutex
	offer     *liteOffer
	addrs     []netip.AddrPort   // checked pairs' addresses; liteTable's, under its lock
	links     []*tcpLink         // its ICE-TCP connections
	queue     chan []byte        // DTLS datagrams for the handshake
	started   bool               // the handshake goroutine runs
	detached  chan struct{}      // closed when DTLS is let go
	rdeadline *deadline.Deadline // the DTLS read deadline
	detach    sync.Once
	done      chan struct{}
	once      sync.Once
}

func (w *Server) newLitePeer(ctx context.Context, t *Track, onClose func()) (*litePeer, error) {
	sh := t.pick()
	p := &litePeer{
		w: w, t: t, sh: sh, l: sh.lane, onClose: onClose,
		aud:       audience{t: t, userAgent: onair.UserAgent(ctx)},
		created:   time.Now(),
		queue:     make(chan []byte, dtlsQueue),
		detached:  make(chan struct{}),
		rdeadline: deadline.New(),
		done:      make(chan struct{}),
	}
	c := newICECreds()
	p.creds.Store(&c)
	if !t.add(p, sh) {
		return nil, ErrNotLive
	}
	return p, nil
}

// Answer answers an offer. The answer holds every candidate: the lane's
// socket, and ICE-TCP's port when it is on. A later offer with new ICE
// credentials is an ICE restart: new credentials, same keys.
func (p *litePeer) Answer(offer string) (string, error) {
	o, err := parseLiteOffer(offer)
	if err != nil {
		return "", err
	}
	// Under mu, so that close (which closes done under it, then takes p
	// out of the table) never leaves p in the table.
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		return "", ErrNotLive
	default:
	}
	if p.offer != nil && o.pt != p.offer.pt {
		p.mu.Unlock()
		return "", onair.Errorf(onair.EInvalid, "invalid offer: the Opus payload type changed from %d to %d", p.offer.pt, o.pt)
	}
	c := p.creds.Load()
	switch {
	case p.offer == nil:
		p.l.lite.add(p, c.ufrag)
	case p.offer.ufrag != o.ufrag: // an ICE restart
		n := newICECreds()
		p.l.lite.replace(p, c.ufrag, &n)
		c = &n
	}
	p.offer = o.kept()
	p.mu.Unlock()
	return o.answer(liteAnswer{
		ufrag:       c.ufrag,
		pwd:         c.pwd,
		fingerprint: p.w.fingerprint,
		ssrc:        p.t.ssrc,
		stream:      "onair-" + p.t.slug,
		candidates:  p.l.candidates,
	}), nil
}

// kept is what a listener keeps of its offer once answered: the ICE
// fragment (a later offer with another is a restart), the payload type
// and the fingerprints the handshake checks, copied. pion/sdp's strings
// are cut from one buffer that holds the whole offer's fields, a few KB
// that any one of them would keep alive as long as the listener.
func (o *liteOffer) kept() *liteOffer {
	k := &liteOffer{ufrag: strings.Clone(o.ufrag), audio: -1, pt: o.pt}
	k.fingerprints = make([]remoteFingerprint, len(o.fingerprints))
	for i, f := range o.fingerprints {
		k.fingerprints[i] = remoteFingerprint{algo: strings.Clone(f.algo), value: strings.Clone(f.value)}
	}
	return k
}

// AddCandidate checks a browser's trickled candidate and otherwise
// ignores it: an ICE-lite server learns the browser's addresses from its
// checks.
func (p *litePeer) AddCandidate(c onair.ICECandidate) error {
	if c.Candidate == "" {
		return nil
	}
	if _, err := ice.UnmarshalCandidate(c.Candidate); err != nil {
		return onair.Errorf(onair.EInvalid, "invalid candidate: %v", err)
	}
	return nil
}

// Close ends the listener. onClose is not called: the caller knows.
func (p *litePeer) Close() error {
	p.close(false)
	return nil
}

func (p *litePeer) close(notify bool) {
	p.once.Do(func() {
		p.mu.Lock()
		close(p.done)
		p.mu.Unlock()
		p.letGo()
		p.l.lite.remove(p)
		p.mu.Lock()
		links := p.links
		p.links = nil
		p.mu.Unlock()
		for _, k := range links {
			k.close()
		}
		p.sh.removeLite(p)
		p.t.remove(p)
		p.aud.uncount()
		if notify && p.onClose != nil {
			p.onClose()
		}
	})
}

// heard notes that the browser sent something.
func (p *litePeer) heard() { p.seen.Store(time.Now().UnixNano()) }

// srtcp notes an SRTCP packet from the browser: it has its keys, so the
// DTLS connection is no longer needed.
func (p *litePeer) srtcp() {
	if c := p.lingering.Swap(nil); c != nil {
		_ = c.SetReadDeadline(time.Now())
	}
}

// silent reports whether the listener should be given up at now.
func (p *litePeer) silent(now time.Time) bool {
	if !p.aud.isCounted() {
		return now.Sub(p.created) > p.w.connectWithin
	}
	return now.Sub(time.Unix(0, p.seen.Load())) > p.w.silence
}

// dtlsIn takes a DTLS datagram from the browser: it starts the handshake
// with the first and queues it. Once DTLS is let go, an alert is the
// browser closing (it sends nothing else then; an alert is encrypted, so
// a close_notify cannot be told from a fatal one, and both end it).
func (p *litePeer) dtlsIn(b []byte, from *liteRoute) {
	select {
	case <-p.detached:
		if b[0] == 21 { // alert
			p.t.goClose(p)
		}
		return
	default:
	}
	p.mu.Lock()
	start := !p.started && p.offer != nil
	select {
	case <-p.done: // closed (done is closed under mu): no handshake
		start = false
	default:
	}
	p.started = p.started || start
	p.mu.Unlock()
	if start {
		p.w.dtlsWG.Add(1)
		go p.handshake(from)
	}
	select {
	case p.queue <- append([]byte(nil), b...):
	default: // the browser sends its flight again
	}
}

// handshake runs DTLS as the server with the browser at from, makes the
// SRTP context from its keys, puts the listener on its shard's list and
// counts it; after dtlsLinger it lets DTLS go.
func (p *litePeer) handshake(from *liteRoute) {
	defer p.w.dtlsWG.Done()
	log := p.w.logger().With("station", p.t.slug, "remote", from.String())
	p.mu.Lock()
	offer := p.offer
	p.mu.Unlock()
	conn, err := dtls.ServerWithOptions(&dtlsShim{p: p, remote: from}, from.addr(),
		dtls.WithCertificates(p.w.cert),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		// As pion's own DTLS transport: asked for, not required.
		dtls.WithExtendedMasterSecret(dtls.RequestExtendedMasterSecret),
		dtls.WithClientAuth(dtls.RequireAnyClientCert),
		// No cookie round trip (HelloVerifyRequest): it guards against
		// spoofed addresses, and DTLS only reaches a listener from an
		// address that passed an ICE check with its credentials. One
		// round trip less before the first packet.
		dtls.WithInsecureSkipVerifyHello(true),
		dtls.WithInsecureSkipVerify(true), // the offer's fingerprint is the check
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errNoPeerCertificate
			}
			cert, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("rtc: browser's certificate: %w", err)
			}
			if !offer.matches(cert) {
				return errFingerprintMismatch
			}
			return nil
		}),
		dtls.WithLoggerFactory(pionLogs{p.w.logger()}),
	)
	if err != nil {
		log.Debug("webrtc listener: dtls", "err", err)
		p.t.goClose(p)
		return
	}
	// The handshake ends with the listener or after liteConnectTimeout.
	ctx, cancel := context.WithTimeout(context.Background(), p.w.connectWithin)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := conn.HandshakeContext(ctx); err != nil {
		log.Debug("webrtc listener: dtls handshake failed", "err", err)
		p.t.goClose(p)
		return
	}
	if err := p.keys(conn); err != nil {
		log.Warn("webrtc listener: srtp keys", "err", err)
		p.t.goClose(p)
		return
	}
	// Under mu, so that close, which closes done under it, either sees
	// p on the list or keeps it off.
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		return
	default:
	}
	p.sh.addLite(p)
	p.mu.Unlock()
	p.aud.count()
	// The browser may send its last flight again, or close at once: DTLS
	// is kept until its first SRTCP packet shows it has its keys, or for
	// dtlsLinger. It sends no application data, so a read returns only
	// when the connection ends: by the deadline (or SRTCP, which moves the
	// deadline), by the listener's close, or by an alert of the browser's:
	// it left.
	_ = conn.SetReadDeadline(time.Now().Add(dtlsLinger))
	p.lingering.Store(conn)
	_, err = conn.Read(make([]byte, 64))
	p.lingering.Store(nil)
	var ne net.Error
	select {
	case <-p.done:
	default:
		if !errors.As(err, &ne) || !ne.Timeout() {
			log.Debug("webrtc listener: the browser closed", "err", err)
			p.t.goClose(p)
		}
	}
	p.letGo()
}

// keys makes the listener's SRTP context from the DTLS connection's keys.
func (p *litePeer) keys(conn *dtls.Conn) error {
	profile, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return errNoSRTPProfile
	}
	var prof srtp.ProtectionProfile
	switch profile {
	case dtls.SRTP_AEAD_AES_128_GCM:
		prof = srtp.ProtectionProfileAeadAes128Gcm
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		prof = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return fmt.Errorf("rtc: srtp profile %#x: %w", profile, errNoSRTPProfile)
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return errNoSRTPProfile
	}
	cfg := srtp.Config{Profile: prof}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, false); err != nil {
		return fmt.Errorf("rtc: srtp keys: %w", err)
	}
	ctx, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, prof)
	if err != nil {
		return fmt.Errorf("rtc: srtp context: %w", err)
	}
	p.mu.Lock()
	p.srtp, p.pt = ctx, p.offer.pt
	p.mu.Unlock()
	return nil
}

// letGo ends the DTLS connection without a word to the browser: its
// reads fail, so its goroutines end, and what it would write is dropped.
func (p *litePeer) letGo() {
	p.detach.Do(func() {
		close(p.detached)
		// A flight the browser sent again while the handshake ended
		// would wait in the queue as long as the listener.
		for {
			select {
			case <-p.queue:
			default:
				return
			}
		}
	})
}

// dtlsShim is the packet connection pion/dtls runs on for one listener:
// it reads the datagrams the lane's socket queued for the listener and
// writes through the socket to the browser.
type dtlsShim struct {
	p      *litePeer
	remote *liteRoute
}

func (s *dtlsShim) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-s.p.queue:
		return copy(b, d), s.remote.addr(), nil
	case <-s.p.detached:
		return 0, nil, net.ErrClosed
	case <-s.p.rdeadline.Done():
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func (s *dtlsShim) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-s.p.detached:
		return len(b), nil
	default:
	}
	s.remote.write(s.p.l.conn, b)
	return len(b), nil
}

func (s *dtlsShim) Close() error {
	s.p.letGo()
	return nil
}

func (s *dtlsShim) LocalAddr() net.Addr { return s.p.l.conn.LocalAddr() }

func (s *dtlsShim) SetDeadline(t time.Time) error {
	s.p.rdeadline.Set(t)
	return nil
}

func (s *dtlsShim) SetReadDeadline(t time.Time) error {
	s.p.rdeadline.Set(t)
	return nil
}

// SetWriteDeadline does nothing: a write to the socket does not wait.
func (s *dtlsShim) SetWriteDeadline(time.Time) error { return nil }

// liteCandidates are the candidates of lane l's listeners: its socket at
// each address the server advertises, and ICE-TCP's port. They are made
// once, when the lanes are.
func (w *Server) liteCandidates(l *lane) []string {
	port := l.conn.LocalAddr().(*net.UDPAddr).Port
	var out []string
	for i, ip := range w.hostIPs {
		out = append(out, fmt.Sprintf("%d 1 udp %d %s %d typ host", i+1, 2130706431-i, ip, port))
	}
	if a, ok := w.TCPAddr().(*net.TCPAddr); ok && a != nil {
		for i, ip := range w.hostIPs {
			out = append(out, fmt.Sprintf("%d 1 tcp %d %s %d typ host tcptype passive", len(w.hostIPs)+i+1, 1671430143-i, ip, a.Port))
		}
	}
	return out
}
