package rtc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// rtpMTU bounds an RTP packet's size, as pion's own sample track does; an
// Opus packet of 60 ms at 96 kbit/s is 720 bytes.
const rtpMTU = 1200

// Station is what a track tells its station about its peers. The relay's
// station implements it (cmd/onair passes it through). Its methods run on
// pion's and the track's goroutines and must not block.
type Station interface {
	// PeerBound: a peer was bound to the track, so the station should
	// start encoding now rather than at its next tick.
	PeerBound()
	// PeerConnected: a peer's connection is up; it counts as a listener.
	PeerConnected()
	// PeerGone: a peer that was counted went away. It is called once for
	// each PeerConnected, from Peer.uncount.
	PeerGone()
}

// Track is a station's WebRTC output. Each Opus packet is
// packetized once, so every listener gets the same sequence numbers and
// timestamps, and handed to shards: a shard is a pion track holding its
// share of the station's peers, with a goroutine that writes the packets
// to them. The station clock only queues, so it never waits on the
// fan-out (writing a packet to a peer is a UDP send, ~5 us here), and the
// fan-out uses every core.
type Track struct {
	srv        *Server // nil in tests that build a track by hand
	slug       string
	station    Station // nil: nobody is told
	packetizer rtp.Packetizer
	pack       opusPacker // joins the station's frames into longer packets
	ssrc       uint32     // the source lite listeners hear (pion's peers get their own)
	shards     []*shard
	bound      atomic.Int32 // peers bound: the Opus path runs while > 0
	dropped    atomic.Int64 // packets a shard was too far behind to take

	mu       sync.Mutex
	peers    map[member]*shard
	closed   bool
	wg       sync.WaitGroup // closes started by pion callbacks
	stopOnce sync.Once
}

// shard writes a station's packets to some of its peers, all on one lane,
// so that a packet's datagrams to them leave in a few sendmmsg calls.
type shard struct {
	srv   *Server // nil in tests that build a track by hand
	lane  *lane   // nil in tests that build a track by hand
	track *webrtc.TrackLocalStaticRTP
	queue chan []*rtp.Packet
	peers atomic.Int32
	done  chan struct{}

	// The shard's lite listeners that have their keys: a list replaced
	// whole on each change, so that the fan-out reads it without a lock.
	liteMu sync.Mutex
	lite   atomic.Pointer[[]*litePeer]
	// The fan-out's buffers: the packet in the clear, with another
	// payload type, and sealed.
	plain, alt, sealed []byte
	hdr                rtp.Header   // SRTP's scratch: it parses the header into it
	sealFailed         atomic.Int64 // packets SRTP refused to seal
}

// shardQueue is how many packets a shard may fall behind (1 s of 20 ms
// packets) before packets are dropped for its peers.
const shardQueue = 50

// NewTrack makes the track of station slug and starts its shard
// goroutines; new peers of the station are bound to it until it is
// closed. st hears about the track's peers. The station owns the track:
// it alone writes to it, and it closes it when it stops.
func (w *Server) NewTrack(slug string, st Station) (*Track, error) {
	if err := w.setup(); err != nil {
		return nil, err
	}
	t := &Track{
		srv:     w,
		slug:    slug,
		station: st,
		ssrc:    randomSSRC(),
		peers:   map[member]*shard{},
	}
	// Packets carry the track's SSRC, the one lite answers name; pion's
	// peers get theirs from pion.
	t.packetizer = rtp.NewPacketizer(rtpMTU, 111, t.ssrc, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), opusCodec.ClockRate)
	t.pack.max = w.PacketDuration
	for i := range max(1, runtime.GOMAXPROCS(0)) {
		track, err := webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "onair-"+slug)
		if err != nil {
			t.stopShards()
			return nil, fmt.Errorf("rtc: new track %d: %w", i, err)
		}
		sh := &shard{srv: w, lane: w.lanes[i%len(w.lanes)], track: track, queue: make(chan []*rtp.Packet, shardQueue), done: make(chan struct{})}
		t.shards = append(t.shards, sh)
		go sh.run()
	}
	w.register(t)
	return t, nil
}

func (sh *shard) run() {
	defer close(sh.done)
	for pkts := range sh.queue {
		sh.send(pkts)
	}
}

// send writes packets to every peer of the shard. pion writes each
// peer's datagram on this goroutine, so holding the lane's socket queues
// them all, and releasing it sends them in batches.
func (sh *shard) send(pkts []*rtp.Packet) {
	if sh.lane != nil && sh.lane.conn != nil {
		sh.lane.conn.hold()
		defer sh.lane.conn.release()
	}
	for _, p := range pkts {
		// pion copies the header per peer; a peer that went away is
		// pion's to skip.
		_ = sh.track.WriteRTP(p)
	}
	if lp := sh.lite.Load(); lp != nil && len(*lp) > 0 {
		for _, p := range pkts {
			sh.sendLite(p, *lp)
		}
	}
}

// sendLite packs pkt once and sends it sealed to each lite listener.
func (sh *shard) sendLite(pkt *rtp.Packet, peers []*litePeer) {
	if sh.plain == nil {
		sh.plain, sh.alt, sh.sealed = make([]byte, batchSlot), make([]byte, batchSlot), make([]byte, 0, batchSlot)
	}
	n, err := pkt.MarshalTo(sh.plain)
	if err != nil {
		sh.unsealed(int64(len(peers)))
		return
	}
	plain := sh.plain[:n]
	alt := sh.alt[:n]
	altPT := -1
	for _, p := range peers {
		src := plain
		if p.pt != plain[1]&0x7f {
			// A browser that numbers Opus otherwise (Firefox: 109).
			if altPT != int(p.pt) {
				copy(alt, plain)
				alt[1] = plain[1]&0x80 | p.pt
				altPT = int(p.pt)
			}
			src = alt
		}
		out, err := p.srtp.EncryptRTP(sh.sealed[:0], src, &sh.hdr)
		r := p.route.Load()
		if err != nil || r == nil {
			sh.unsealed(1)
			continue
		}
		r.write(sh.lane.conn, out)
	}
}

// unsealed counts n packets SRTP could not seal.
func (sh *shard) unsealed(n int64) {
	sh.sealFailed.Add(n)
	if sh.srv != nil {
		sh.srv.stats.unsealed.Add(n)
	}
}

// addLite puts p, whose keys are known, on the fan-out's list.
func (sh *shard) addLite(p *litePeer) {
	sh.liteMu.Lock()
	defer sh.liteMu.Unlock()
	var next []*litePeer
	if cur := sh.lite.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, p)
	sh.lite.Store(&next)
}

// removeLite takes p off the fan-out's list.
func (sh *shard) removeLite(p *litePeer) {
	sh.liteMu.Lock()
	defer sh.liteMu.Unlock()
	cur := sh.lite.Load()
	if cur == nil || !slices.Contains(*cur, p) {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*cur), func(q *litePeer) bool { return q == p })
	sh.lite.Store(&next)
}

// packetize turns one Opus packet of duration dur into RTP packets, on the
// station's one sequence and timestamp line. It copies pkt.
func (t *Track) packetize(pkt []byte, dur time.Duration) []*rtp.Packet {
	samples := uint32(dur * time.Duration(opusCodec.ClockRate) / time.Second)
	return t.packetizer.Packetize(pkt, samples)
}

// Write takes one Opus packet of duration dur from the station and, once
// the Server's PacketDuration of them is joined, queues the packet for
// every shard that has peers. It never blocks: a shard too far behind
// misses the packet.
func (t *Track) Write(pkt []byte, dur time.Duration) {
	if t.bound.Load() == 0 {
		// Nobody to send to: frames held now would be stale when the
		// next listener comes.
		t.pack.reset()
	}
	t.pack.add(pkt, dur, t.send)
}

func (t *Track) send(pkt []byte, dur time.Duration) {
	pkts := t.packetize(pkt, dur)
	for _, sh := range t.shards {
		if sh.peers.Load() == 0 {
			continue
		}
		select {
		case sh.queue <- pkts:
		default:
			t.dropped.Add(1)
			if t.srv != nil {
				t.srv.stats.behind.Add(int64(sh.peers.Load()))
			}
		}
	}
}

// pick returns the shard a new peer should be bound to: the least busy.
func (t *Track) pick() *shard {
	best := t.shards[0]
	for _, sh := range t.shards[1:] {
		if sh.peers.Load() < best.peers.Load() {
			best = sh
		}
	}
	return best
}

// add registers p, bound to sh, unless the station already stopped.
func (t *Track) add(p member, sh *shard) bool {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return false
	}
	t.peers[p] = sh
	sh.peers.Add(1)
	t.bound.Store(int32(len(t.peers)))
	t.mu.Unlock()
	if t.station != nil {
		t.station.PeerBound()
	}
	return true
}

// Active reports whether any peer is bound, so the station must encode.
func (t *Track) Active() bool { return t.bound.Load() > 0 }

// goClose closes p on a goroutine of its own, unless the station is
// already closing every peer itself.
func (t *Track) goClose(p member) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		p.close(true)
	}()
}

func (t *Track) remove(p member) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sh, ok := t.peers[p]; ok {
		sh.peers.Add(-1)
		delete(t.peers, p)
	}
	t.bound.Store(int32(len(t.peers)))
}

// stopShards ends the shard goroutines. The caller makes sure no packet
// can come any more: the station clock has stopped.
func (t *Track) stopShards() {
	t.stopOnce.Do(func() {
		for _, sh := range t.shards {
			close(sh.queue)
			<-sh.done
		}
	})
}

// Close closes every peer of a station that stopped and ends the shard
// goroutines; it returns when they are all done. The station calls it once
// its clock no longer writes; calling it again does nothing more.
func (t *Track) Close() {
	if t.srv != nil {
		t.srv.forget(t)
	}
	t.mu.Lock()
	t.closed = true
	peers := make([]member, 0, len(t.peers))
	for p := range t.peers {
		peers = append(peers, p)
	}
	t.mu.Unlock()
	for _, p := range peers {
		p.close(true)
	}
	t.wg.Wait()
	t.stopShards()
	if t.srv != nil {
		var refused int64
		for _, l := range t.srv.lanes {
			if l.conn != nil {
				refused += l.conn.failed.Load()
			}
		}
		var unsealed int64
		for _, sh := range t.shards {
			unsealed += sh.sealFailed.Load()
		}
		// All should be 0: a shard that fell a second behind, a socket
		// that refused datagrams, or packets SRTP could not seal for a
		// lite listener lost audio for its listeners.
		level, dropped := slog.LevelDebug, t.dropped.Load()
		if dropped > 0 || refused > 0 || unsealed > 0 {
			level = slog.LevelWarn
		}
		t.srv.logger().Log(context.Background(), level, "webrtc track closed", "station", t.slug,
			"dropped_packets", dropped, "refused_datagrams_server", refused, "unsealed_packets", unsealed)
	}
}
