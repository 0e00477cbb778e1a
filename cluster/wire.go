package cluster

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/relay"
)

// Subjects. Station subjects are onair.SLUG.KIND; a slug is lowercase
// letters, digits and dashes, so it never collides with the "_" subjects
// the nodes use among themselves.
const (
	subjNodes = "onair._sys.nodes" // heartbeats with listener counts and demand
	subjState = "onair._sys.state" // the origin's live stations, now and then
	// subjSessions: sessions that ended on the origin (logout, password
	// change, user disabled), whose sockets every node closes.
	subjSessions = "onair._sys.sessions"
	// subjChatID is the JetStream stream whose sequence numbers are chat
	// message IDs (Node.ChatID).
	subjChatID = "onair._sys.chatid"
	rpcState   = "onair._rpc.state"
	rpcBurst   = "onair._rpc.burst"
	rpcAuth    = "onair._rpc.auth"
	rpcCtl     = "onair._rpc.control"
	rpcJoin    = "onair._rpc.join"
	rpcLike    = "onair._rpc.like"
	rpcLikes   = "onair._rpc.likes"
	rpcHTTP    = "onair._rpc.http"
)

func stationSubject(slug, kind string) string { return "onair." + slug + "." + kind }

// Kinds of station subjects.
const (
	kindEvents = "events"
	kindChat   = "chat"
	kindLikes  = "likes"
)

func outputKind(o relay.Output) string { return o.String() }

// slugRE is control's rule for slugs; a subject's station must match it.
var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)

// Limits on what a peer may send.
const (
	maxChunkData  = 768 << 10
	maxMarks      = 256
	maxHead       = 64 << 10
	maxPacket     = 4000
	maxStations   = 10000
	maxNodeName   = 64
	maxTextField  = 1024
	maxBurstChunk = 256
)

// chunkMsg is one chunk of a mount, as the origin made it.
type chunkMsg struct {
	Epoch    int64     `json:"epoch"`          // the station's start, unix ns
	Sent     int64     `json:"sent,omitempty"` // when the origin sent it, unix ns
	Seq      uint64    `json:"seq"`
	At       int64     `json:"at"`  // ns of stream time
	Dur      int64     `json:"dur"` // ns
	Data     []byte    `json:"data"`
	Marks    []markMsg `json:"marks"`
	Head     []byte    `json:"head,omitempty"`
	HeadData bool      `json:"head_data,omitempty"`
}

type markMsg struct {
	Off   int    `json:"off"`
	Block []byte `json:"block"`
}

func newChunkMsg(epoch int64, c relay.Chunk) chunkMsg {
	marks := make([]markMsg, len(c.Marks))
	for i, m := range c.Marks {
		marks[i] = markMsg{Off: m.Off, Block: m.Block}
	}
	return chunkMsg{Epoch: epoch, Sent: time.Now().UnixNano(), Seq: c.Seq, At: int64(c.At), Dur: int64(c.Dur), Data: c.Data, Marks: marks, Head: c.Head, HeadData: c.HeadData}
}

// chunk checks m and returns it as the relay's chunk.
func (m *chunkMsg) chunk() (relay.Chunk, error) {
	if len(m.Data) > maxChunkData || len(m.Marks) > maxMarks || len(m.Head) > maxHead {
		return relay.Chunk{}, fmt.Errorf("%w: chunk too large", ErrBadMessage)
	}
	marks := make([]relay.Mark, len(m.Marks))
	for i, mk := range m.Marks {
		marks[i] = relay.Mark{Off: mk.Off, Block: mk.Block}
	}
	c := relay.Chunk{Seq: m.Seq, At: time.Duration(m.At), Dur: time.Duration(m.Dur), Data: m.Data, Marks: marks, Head: m.Head, HeadData: m.HeadData}
	if err := relay.CheckChunk(c); err != nil {
		return relay.Chunk{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return c, nil
}

// packetMsg is one Opus packet of a station's WebRTC track.
type packetMsg struct {
	Epoch int64  `json:"epoch"`
	Sent  int64  `json:"sent,omitempty"`
	At48  int64  `json:"at48"`
	Dur   int64  `json:"dur"`
	Data  []byte `json:"data"`
}

func (m *packetMsg) check() error {
	d := time.Duration(m.Dur)
	if len(m.Data) == 0 || len(m.Data) > maxPacket || d < 2500*time.Microsecond || d > 120*time.Millisecond || m.At48 < 0 {
		return fmt.Errorf("%w: opus packet", ErrBadMessage)
	}
	return nil
}

// stationMsg is a live station as an edge needs it to run a replica.
type stationMsg struct {
	Slug        string            `json:"slug"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Genre       string            `json:"genre"`
	Show        string            `json:"show"`
	MP3Bitrate  int               `json:"mp3_bitrate"`
	SampleRate  int               `json:"sample_rate"`
	StartedAt   time.Time         `json:"started_at"`
	NowPlaying  *onair.NowPlaying `json:"now_playing"`
	Source      *onair.LiveSource `json:"source"`
}

func (m *stationMsg) check() error {
	if !slugRE.MatchString(m.Slug) || len(m.Name) > maxTextField || len(m.Description) > 4*maxTextField ||
		len(m.Genre) > maxTextField || len(m.Show) > maxTextField || m.StartedAt.IsZero() {
		return fmt.Errorf("%w: station %q", ErrBadMessage, m.Slug)
	}
	if np := m.NowPlaying; np != nil && (len(np.Title) > maxTextField || len(np.Artist) > maxTextField || len(np.Album) > maxTextField || len(np.Show) > maxTextField) {
		return fmt.Errorf("%w: now playing of %q", ErrBadMessage, m.Slug)
	}
	return nil
}

func (m *stationMsg) replica() relay.Replica {
	return relay.Replica{
		Info: relay.StationInfo{Slug: m.Slug, Name: m.Name, Description: m.Description, Genre: m.Genre, Show: m.Show,
			Audio: onair.AudioSettings{MP3Bitrate: m.MP3Bitrate, SampleRate: m.SampleRate}},
		StartedAt:  m.StartedAt,
		NowPlaying: m.NowPlaying,
		Source:     m.Source,
	}
}

// stateMsg is the origin's live stations, and where it takes sources.
type stateMsg struct {
	Node     string       `json:"node"`
	Stations []stationMsg `json:"stations"`
	// PublicURL is the origin's http.public_url, empty when it has none.
	PublicURL string `json:"public_url,omitempty"`
}

// publicURL is m's PublicURL when it is an absolute http(s) URL of sane
// length, else "": an edge names it to source clients.
func (m *stateMsg) publicURL() string {
	if len(m.PublicURL) > maxTextField {
		return ""
	}
	u, err := url.Parse(m.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return strings.TrimSuffix(u.String(), "/")
}

// eventMsg is a station event. Started carries the station.
type eventMsg struct {
	Kind       string            `json:"kind"` // started, stopped, metadata, source
	Station    *stationMsg       `json:"station,omitempty"`
	NowPlaying *onair.NowPlaying `json:"now_playing,omitempty"`
	Source     *onair.LiveSource `json:"source,omitempty"`
	SentAt     time.Time         `json:"sent_at"`
}

// load is one station's listeners on one node.
type load struct {
	MP3    int  `json:"mp3"` // HTTP listeners of each mount
	Ogg    int  `json:"ogg"`
	Opus   bool `json:"opus"` // some WebRTC peer bound
	HTTP   int  `json:"http"`
	WebRTC int  `json:"webrtc"`
}

// heartbeat is a node's listeners, sent every few seconds and when its
// demand changes.
type heartbeat struct {
	Node     string          `json:"node"`
	Role     string          `json:"role"`
	Stations map[string]load `json:"stations"`
}

func (h *heartbeat) check() error {
	if h.Node == "" || len(h.Node) > maxNodeName || len(h.Stations) > maxStations {
		return fmt.Errorf("%w: heartbeat", ErrBadMessage)
	}
	for slug, l := range h.Stations {
		if !slugRE.MatchString(slug) || l.MP3 < 0 || l.Ogg < 0 || l.HTTP < 0 || l.WebRTC < 0 ||
			l.HTTP > 1<<30 || l.WebRTC > 1<<30 {
			return fmt.Errorf("%w: heartbeat of %s for %q", ErrBadMessage, h.Node, slug)
		}
	}
	return nil
}

// burstReq asks the origin for a mount's recent chunks.
type burstReq struct {
	Station string `json:"station"`
	Output  string `json:"output"`
}

type burstReply struct {
	Chunks []chunkMsg `json:"chunks"`
}

// rpcError is an error answer: an onair error code and its message.
type rpcError struct {
	Code    onair.Code `json:"code,omitempty"`
	Message string     `json:"message,omitempty"`
}

func (e *rpcError) err() error {
	if e == nil || (e.Code == "" && e.Message == "") {
		return nil
	}
	code := e.Code
	if code == "" {
		code = onair.EInternal
	}
	return onair.Errorf(code, "%s", e.Message)
}

func toRPCError(err error) *rpcError {
	if err == nil {
		return nil
	}
	return &rpcError{Code: onair.ErrorCode(err), Message: onair.ErrorMessage(err)}
}

// Requests an edge makes of the origin for its sockets. Credentials travel
// as the client gave them; the origin checks them.
type authReq struct {
	Token string `json:"token"`
}

type userReply struct {
	User  *onair.User `json:"user,omitempty"`
	Error *rpcError   `json:"error,omitempty"`
}

type controlReq struct {
	Token    string                `json:"token"`
	Op       string                `json:"op"` // start, stop, metadata
	Station  string                `json:"station"`
	TrackID  int64                 `json:"track_id,omitempty"`
	Metadata *onair.MetadataUpdate `json:"metadata,omitempty"`
}

type errReply struct {
	Error *rpcError `json:"error,omitempty"`
}

type stationReq struct {
	Station string `json:"station"`
}

type joinReply struct {
	Live       bool              `json:"live"`
	StartedAt  time.Time         `json:"started_at"`
	Source     *onair.LiveSource `json:"source,omitempty"`
	NowPlaying *onair.NowPlaying `json:"now_playing,omitempty"`
	Listeners  onair.Listeners   `json:"listeners"`
	Error      *rpcError         `json:"error,omitempty"`
}

type likesReply struct {
	Count int64     `json:"count"`
	Error *rpcError `json:"error,omitempty"`
}

// chatMsg carries a chat:message frame, likesMsg a like count, between
// nodes.
type chatMsg struct {
	Node  string          `json:"node"`
	Frame json.RawMessage `json:"frame"`
}

// sessionEndMsg: close the sockets of Token, or of user UserID but those
// on Keep.
type sessionEndMsg struct {
	Node   string `json:"node"`
	Token  string `json:"token,omitempty"`
	UserID int64  `json:"user_id,omitempty"`
	Keep   string `json:"keep,omitempty"`
}

type likesMsg struct {
	Node  string `json:"node"`
	Count int64  `json:"count"`
}
