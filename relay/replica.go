package relay

import (
	"fmt"
	"slices"
	"time"

	"github.com/onairfm/onair"
)

// This file is the relay's side of a cluster: what another package (cluster,
// over NATS) needs to carry a station's outputs from the node that plays it,
// the origin, to the nodes that only serve listeners, the edges. The relay
// knows nothing of how they travel.
//
// On the origin, Tap sees every chunk and packet a station makes, and Nodes
// says which outputs other nodes want and how many listen there. On an edge,
// a replica station has no clock and no mix: its rings and WebRTC track are
// fed with the origin's chunks and packets, so that its listeners get the
// same burst, the same ICY titles at the same bytes and the same Opus
// packets, with nothing encoded again.

// Output is one of a station's encoded outputs.
type Output int

// The outputs, in the order of a station's mounts.
const (
	OutputMP3  Output = iota // the MP3 mount, /stream/SLUG
	OutputOgg                // the Ogg/Opus mount, /stream/SLUG.opus
	OutputOpus               // Opus packets of the WebRTC track
)

func (o Output) String() string {
	switch o {
	case OutputMP3:
		return "mp3"
	case OutputOgg:
		return "ogg"
	case OutputOpus:
		return "opus"
	}
	return "unknown"
}

// Chunk is a published run of an HTTP mount's stream (see chunk). Its
// slices are shared with the ring: a Tap must not modify them.
type Chunk struct {
	// Seq numbers the mount's chunks; it grows by one per chunk for as
	// long as the station is live, also across encoder restarts.
	Seq      uint64
	At, Dur  time.Duration
	Data     []byte
	Marks    []Mark // Marks[0].Off is 0
	Head     []byte // Ogg: the header pages in force at the chunk's start
	HeadData bool   // Data starts with Head
}

// Mark says that the ICY metadata block Block describes the chunk's audio
// from byte Off on.
type Mark struct {
	Off   int
	Block []byte
}

// Tap sees what a station's encoders make. Its methods run on the
// station's clock goroutine: they must not block, and must copy what they
// keep.
type Tap interface {
	Chunk(station string, out Output, c Chunk)
	// Packet is one Opus packet of the WebRTC track; at48 is the 48 kHz
	// stream frame its audio starts at.
	Packet(station string, pkt []byte, at48 int64, dur time.Duration)
}

// Nodes tells a station about the other nodes of a cluster. Its methods
// are called on station goroutines and must not block.
type Nodes interface {
	// Wants reports whether some other node has a listener of out.
	Wants(station string, out Output) bool
	// Listeners counts the station's listeners on the other nodes.
	Listeners(station string) onair.Listeners
}

func (r *Relay) remoteWants(slug string, out Output) bool {
	return r.Nodes != nil && r.Nodes.Wants(slug, out)
}

// tapOutputs hands the station's chunks and packets to the relay's Tap.
func (s *station) tapOutputs() {
	t := s.r.Tap
	if t == nil {
		return
	}
	for i, m := range s.mounts {
		out := Output(i)
		m.ring.tap = func(c *chunk) { t.Chunk(s.slug, out, exportChunk(c)) }
	}
	if s.rtc != nil {
		s.rtc.tap = func(pkt []byte, at48 int64, dur time.Duration) { t.Packet(s.slug, pkt, at48, dur) }
	}
}

func exportChunk(c *chunk) Chunk {
	marks := make([]Mark, len(c.marks))
	for i, m := range c.marks {
		marks[i] = Mark{Off: m.off, Block: m.block}
	}
	return Chunk{Seq: c.seq, At: c.at, Dur: c.dur, Data: c.data, Marks: marks, Head: c.head, HeadData: c.headInData}
}

// Refresh tells a station that the other nodes' demand or counts changed:
// it looks at its outputs again and publishes its listener count.
func (r *Relay) Refresh(slug string) {
	if s := r.get(slug); s != nil {
		s.nudge()
		s.publishListeners()
	}
}

// Recent returns the chunks of a mount that a new listener would be sent
// at once (the burst), oldest first; none when the station is not live or
// the mount is not encoding.
func (r *Relay) Recent(slug string, out Output) []Chunk {
	s := r.get(slug)
	if s == nil || out > OutputOgg {
		return nil
	}
	ring := s.mounts[out].ring
	cs, _, _, ok := ring.read(ring.burstStart(r.burst()), nil)
	if !ok {
		return nil
	}
	res := make([]Chunk, len(cs))
	for i, c := range cs {
		res[i] = exportChunk(c)
	}
	return res
}

// Demand is what a station's listeners on this node want.
type Demand struct {
	MP3, Ogg int  // HTTP listeners of each mount
	Opus     bool // some WebRTC peer is bound
	Counts   onair.Listeners
}

// LocalDemand returns the station's listeners on this node; ok is false
// when the station is not live here.
func (r *Relay) LocalDemand(slug string) (d Demand, ok bool) {
	s := r.get(slug)
	if s == nil {
		return d, false
	}
	s.mu.Lock()
	d.MP3, d.Ogg = s.mounts[OutputMP3].listeners, s.mounts[OutputOgg].listeners
	s.mu.Unlock()
	d.Opus = s.webrtc != nil && s.webrtc.Active()
	d.Counts = s.localCounts()
	return d, true
}

// Live returns the slugs of the stations on air on this node, replicas
// included, sorted.
func (r *Relay) Live() []string {
	r.mu.Lock()
	out := make([]string, 0, len(r.stations))
	for slug := range r.stations {
		out = append(out, slug)
	}
	r.mu.Unlock()
	slices.Sort(out)
	return out
}

// Replica is the state of another node's live station that a replica
// starts with.
type Replica struct {
	Info       StationInfo
	StartedAt  time.Time
	NowPlaying *onair.NowPlaying
	Source     *onair.LiveSource
}

// StartReplica puts another node's live station on air here, to be fed by
// Feed and FeedPacket. It publishes the station's start as Start does. A
// station already live here is left as it is.
func (r *Relay) StartReplica(rep Replica) error {
	if r.get(rep.Info.Slug) != nil {
		return nil
	}
	info := rep.Info
	info.Audio = withAudioDefaults(info.Audio)
	s := r.stationShell(info, rep.StartedAt, r.logger().With("station", info.Slug, "replica", true))
	cancel := s.cancel
	s.replica = true
	s.playing = copyNP(rep.NowPlaying)
	s.source = rep.Source
	s.bitrate.Store(int64(info.Audio.MP3Bitrate))
	s.mounts = [2]*mount{
		{kind: mountMP3, ring: newRing(r.ringSize())},
		{kind: mountOgg, ring: newRing(r.ringSize())},
	}
	if r.WebRTC != nil {
		t, err := r.WebRTC.NewTrack(info.Slug, webrtcPeers{s})
		if err != nil {
			cancel()
			return fmt.Errorf("relay: webrtc track for replica %s: %w", info.Slug, err)
		}
		s.webrtc = t
	}
	if added, err := r.register(s); !added {
		return err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.runReplica()
	}()
	return nil
}

// runReplica waits for the replica's end; each wake-up (a listener came or
// went) drops what idle mounts hold, as a station stops an idle encoder,
// and tells OnDemand.
func (s *station) runReplica() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
			s.mu.Lock()
			for _, m := range s.mounts {
				if m.listeners == 0 {
					m.ring.reset()
				}
			}
			s.mu.Unlock()
			if s.r.OnDemand != nil {
				s.r.OnDemand(s.slug)
			}
		}
	}
}

func (r *Relay) replica(slug string) (*station, error) {
	s := r.get(slug)
	switch {
	case s == nil:
		return nil, ErrNotLive
	case !s.replica:
		return nil, ErrNotReplica
	}
	return s, nil
}

// SetReplicaPlaying sets what a replica plays (and its show) and publishes
// it, as a station does at a track change.
func (r *Relay) SetReplicaPlaying(slug string, np *onair.NowPlaying) error {
	s, err := r.replica(slug)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.playing = copyNP(np)
	if np != nil {
		s.info.Show = np.Show
	}
	s.mu.Unlock()
	r.publish(onair.Event{Kind: onair.EventMetadata, Station: slug, NowPlaying: copyNP(np)})
	return nil
}

// SetReplicaSource sets the live source on a replica's air (nil: the
// playlist) and publishes it.
func (r *Relay) SetReplicaSource(slug string, src *onair.LiveSource) error {
	s, err := r.replica(slug)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.source = src
	s.mu.Unlock()
	var cp *onair.LiveSource
	if src != nil {
		v := *src
		cp = &v
	}
	r.publish(onair.Event{Kind: onair.EventSource, Station: slug, Source: cp})
	return nil
}

// Feed publishes a chunk of the origin's mount to a replica's listeners.
// A mount nobody listens to here takes nothing: what it held would be
// stale by the time someone comes. The chunk must be valid (CheckChunk);
// its slices are kept.
func (r *Relay) Feed(slug string, out Output, c Chunk) error {
	s, err := r.replica(slug)
	if err != nil {
		return err
	}
	if out > OutputOgg {
		return fmt.Errorf("%w: %v is not an HTTP mount", ErrBadChunk, out)
	}
	if err := CheckChunk(c); err != nil {
		return err
	}
	m := s.mounts[out]
	s.mu.Lock()
	idle := m.listeners == 0
	s.mu.Unlock()
	if idle {
		return nil
	}
	marks := make([]mark, len(c.Marks))
	for i, mk := range c.Marks {
		marks[i] = mark{off: mk.Off, block: mk.Block}
	}
	m.ring.publish(&chunk{at: c.At, dur: c.Dur, data: c.Data, marks: marks, head: c.Head, headInData: c.HeadData})
	return nil
}

// CheckChunk reports why c cannot be a mount's chunk: the marks must start
// at 0, grow, stay inside the data and hold ICY blocks (a length byte,
// then that many 16-byte units).
func CheckChunk(c Chunk) error {
	if len(c.Marks) == 0 || c.Marks[0].Off != 0 {
		return fmt.Errorf("%w: the first mark is not at 0", ErrBadChunk)
	}
	if c.Dur <= 0 || c.Dur > time.Minute {
		return fmt.Errorf("%w: duration %v", ErrBadChunk, c.Dur)
	}
	prev := -1
	for _, m := range c.Marks {
		if m.Off <= prev || m.Off > len(c.Data) {
			return fmt.Errorf("%w: mark at %d", ErrBadChunk, m.Off)
		}
		prev = m.Off
		if len(m.Block) == 0 || len(m.Block) != 1+16*int(m.Block[0]) {
			return fmt.Errorf("%w: not an ICY metadata block", ErrBadChunk)
		}
	}
	if c.HeadData && (len(c.Head) > len(c.Data) || string(c.Data[:len(c.Head)]) != string(c.Head)) {
		return fmt.Errorf("%w: data does not start with its head", ErrBadChunk)
	}
	return nil
}

// FeedPacket writes an Opus packet of the origin's WebRTC track to a
// replica's peers.
func (r *Relay) FeedPacket(slug string, pkt []byte, dur time.Duration) error {
	s, err := r.replica(slug)
	if err != nil {
		return err
	}
	if s.webrtc != nil && s.webrtc.Active() {
		s.webrtc.Write(pkt, dur)
	}
	return nil
}

// Info returns what a live station tells listeners.
func (r *Relay) Info(slug string) (StationInfo, bool) {
	s := r.get(slug)
	if s == nil {
		return StationInfo{}, false
	}
	return s.stationInfo(), true
}
