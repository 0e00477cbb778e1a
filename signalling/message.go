package signalling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/onairfm/onair"
)

// Event names of the contract. They are the wire format: never rename.
const (
	// client → server
	evAuth           = "auth"
	evJoin           = "stream:join"
	evLeave          = "stream:leave"
	evStart          = "stream:start"
	evStop           = "stream:stop"
	evUpdateMetadata = "stream:update-metadata"
	evOffer          = "webrtc:offer"
	evCandidate      = "webrtc:candidate" // both ways
	evChatSend       = "chat:send"
	evInteraction    = "interaction:send"

	// server → client
	evStarted   = "stream:started"
	evStopped   = "stream:stopped"
	evLive      = "stream:live"
	evOffline   = "stream:offline"
	evMetadata  = "stream:metadata"
	evListeners = "stream:listeners"
	evSource    = "stream:source"
	evAnswer    = "webrtc:answer"
	evChat      = "chat:message"
	evCount     = "interaction:count"
	evError     = "error"
	// evAck is not in the contract: it answers a successful request that
	// carried a "ref" and has no reply of its own, so a client can tell
	// success from silence. Clients that send no ref never see it.
	evAck = "ack"
)

// Input bounds that are part of the wire format rather than tuning.
const (
	maxSlugBytes  = 200
	maxRefBytes   = 200
	maxTokenBytes = 4096
	maxChatRunes  = 500
	likeType      = "like"
)

// timeLayout is the one time format of the API.
const timeLayout = onair.TimeLayout

// request is one decoded client message. Data holds a pointer to the
// event's data struct, already validated.
type request struct {
	Event string
	Ref   string
	Data  any
}

// Client → server data. Each validates itself after decoding.
type (
	authData struct {
		Token string `json:"token"`
	}
	stationData struct {
		Station string `json:"station"`
	}
	startData struct {
		Station string `json:"station"`
		TrackID *int64 `json:"track_id"`
	}
	metadataData struct {
		Station string  `json:"station"`
		Title   *string `json:"title"`
		Artist  *string `json:"artist"`
		Show    *string `json:"show"`
	}
	offerData struct {
		Station string `json:"station"`
		SDP     string `json:"sdp"`
	}
	candidateData struct {
		Station string `json:"station"`
		// Candidate is nil, or has an empty candidate string, at the end
		// of the client's candidates.
		Candidate *onair.ICECandidate `json:"candidate"`
	}
	chatData struct {
		Station string `json:"station"`
		Text    string `json:"text"`
	}
	interactionData struct {
		Station string `json:"station"`
		Type    string `json:"type"`
	}
)

// validator is implemented by every client data struct.
type validator interface{ validate() error }

// newData maps each client event to a fresh data struct to decode into.
var newData = map[string]func() validator{
	evAuth:           func() validator { return new(authData) },
	evJoin:           func() validator { return new(stationData) },
	evLeave:          func() validator { return new(stationData) },
	evStop:           func() validator { return new(stationData) },
	evStart:          func() validator { return new(startData) },
	evUpdateMetadata: func() validator { return new(metadataData) },
	evOffer:          func() validator { return new(offerData) },
	evCandidate:      func() validator { return new(candidateData) },
	evChatSend:       func() validator { return new(chatData) },
	evInteraction:    func() validator { return new(interactionData) },
}

// decode parses and validates one client message. On error the returned
// request still holds the ref when it could be read, so the error can echo
// it. Every error is an onair EInvalid error.
func decode(b []byte) (request, error) {
	var env struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
		Ref   json.RawMessage `json:"ref"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return request{}, onair.Errorf(onair.EInvalid, "message is not a JSON object {\"event\",\"data\",\"ref\"?}")
	}
	var req request
	if len(env.Ref) > 0 && !bytes.Equal(env.Ref, []byte("null")) {
		if err := json.Unmarshal(env.Ref, &req.Ref); err != nil {
			return request{}, onair.Errorf(onair.EInvalid, "\"ref\" must be a string")
		}
		if len(req.Ref) > maxRefBytes {
			req.Ref = ""
			return req, onair.Errorf(onair.EInvalid, "\"ref\" is longer than %d bytes", maxRefBytes)
		}
	}
	req.Event = env.Event
	if env.Event == "" {
		return req, onair.Errorf(onair.EInvalid, "\"event\" is required")
	}
	mk, ok := newData[env.Event]
	if !ok {
		return req, onair.Errorf(onair.EInvalid, "unknown event %q", truncate(env.Event, 64))
	}
	data := mk()
	if len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, data); err != nil {
			return req, onair.Errorf(onair.EInvalid, "%s: %s", env.Event, describeJSONError(err))
		}
	}
	if err := data.validate(); err != nil {
		return req, onair.Errorf(onair.EInvalid, "%s: %s", env.Event, err.Error())
	}
	req.Data = data
	return req, nil
}

// describeJSONError says what was wrong without Go type names.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%q has the wrong type (%s)", te.Field, te.Value)
		}
		return fmt.Sprintf("\"data\" must be an object, not %s", te.Value)
	}
	return "\"data\" is not valid JSON"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func checkStation(s string) error {
	switch {
	case s == "":
		return errors.New("\"station\" is required")
	case len(s) > maxSlugBytes:
		return fmt.Errorf("\"station\" is longer than %d bytes", maxSlugBytes)
	}
	return nil
}

func (d *authData) validate() error {
	switch {
	case d.Token == "":
		return errors.New("\"token\" is required")
	case len(d.Token) > maxTokenBytes:
		return fmt.Errorf("\"token\" is longer than %d bytes", maxTokenBytes)
	}
	return nil
}

func (d *stationData) validate() error { return checkStation(d.Station) }

func (d *startData) validate() error {
	if err := checkStation(d.Station); err != nil {
		return err
	}
	if d.TrackID != nil && *d.TrackID <= 0 {
		return errors.New("\"track_id\" must be a positive track id")
	}
	return nil
}

func (d *metadataData) validate() error { return checkStation(d.Station) }

func (d *offerData) validate() error {
	if err := checkStation(d.Station); err != nil {
		return err
	}
	if d.SDP == "" {
		return errors.New("\"sdp\" is required")
	}
	return nil
}

func (d *candidateData) validate() error { return checkStation(d.Station) }

func (d *chatData) validate() error {
	if err := checkStation(d.Station); err != nil {
		return err
	}
	if d.Text == "" {
		return errors.New("\"text\" is required")
	}
	return nil
}

func (d *interactionData) validate() error {
	if err := checkStation(d.Station); err != nil {
		return err
	}
	if d.Type != likeType {
		return fmt.Errorf("\"type\" must be %q", likeType)
	}
	return nil
}

// Server → client data, in the contract's field names.
type (
	envelopeOut struct {
		Event string `json:"event"`
		Data  any    `json:"data"`
		Ref   string `json:"ref,omitempty"`
	}
	stationMsg struct {
		Station string `json:"station"`
	}
	startedMsg struct {
		Station   string  `json:"station"`
		StartedAt *string `json:"started_at,omitempty"`
	}
	metadataMsg struct {
		Station    string  `json:"station"`
		TrackID    int64   `json:"track_id"`
		Title      string  `json:"title"`
		Artist     string  `json:"artist"`
		Album      string  `json:"album"`
		Show       string  `json:"show"`
		DurationMS int64   `json:"duration_ms"`
		StartedAt  *string `json:"started_at"`
		// Beyond the contract's table, as issue 8 adds them: the playing
		// thing's source, and its cover art's path (omitted when none).
		Source string `json:"source"`
		Art    string `json:"art,omitempty"`
	}
	// sourceMsg says who has the air from the playlist; Source is null
	// when the playlist has it back.
	sourceMsg struct {
		Station string      `json:"station"`
		Source  *liveSource `json:"source"`
	}
	liveSource struct {
		Kind        string  `json:"kind"`
		Streamer    string  `json:"streamer"`
		ConnectedAt *string `json:"connected_at"`
	}
	listenersMsg struct {
		Station string `json:"station"`
		Count   int    `json:"count"`
		HTTP    int    `json:"http"`
		WebRTC  int    `json:"webrtc"`
	}
	answerMsg struct {
		Station string `json:"station"`
		SDP     string `json:"sdp"`
	}
	candidateMsg struct {
		Station   string             `json:"station"`
		Candidate onair.ICECandidate `json:"candidate"`
	}
	chatMsg struct {
		Station string `json:"station"`
		ID      int64  `json:"id"`
		User    string `json:"user"`
		Text    string `json:"text"`
		At      string `json:"at"`
	}
	countMsg struct {
		Station string `json:"station"`
		Type    string `json:"type"`
		Count   int64  `json:"count"`
	}
	errorMsg struct {
		Code    onair.Code `json:"code"`
		Message string     `json:"message"`
		Ref     string     `json:"ref"`
	}
	authMsg struct {
		User *onair.User `json:"user"`
	}
	ackMsg struct {
		Ref string `json:"ref"`
	}
)

// encode builds one server message.
func encode(event string, data any, ref string) ([]byte, error) {
	b, err := json.Marshal(envelopeOut{Event: event, Data: data, Ref: ref})
	if err != nil {
		return nil, fmt.Errorf("signalling: encode %s: %w", event, err)
	}
	return b, nil
}

func newSourceMsg(station string, src *onair.LiveSource) sourceMsg {
	m := sourceMsg{Station: station}
	if src != nil {
		m.Source = &liveSource{Kind: src.Kind, Streamer: src.Streamer, ConnectedAt: formatTime(src.ConnectedAt)}
	}
	return m
}

// formatTime renders t for the wire, or nil for the zero time.
func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(timeLayout)
	return &s
}

func newMetadataMsg(station string, np *onair.NowPlaying) metadataMsg {
	m := metadataMsg{
		Station:    station,
		TrackID:    np.TrackID,
		Title:      np.Title,
		Artist:     np.Artist,
		Album:      np.Album,
		Show:       np.Show,
		DurationMS: np.Duration.Milliseconds(),
		StartedAt:  formatTime(np.StartedAt),
		Source:     np.Source,
	}
	if m.Source == "" {
		m.Source = onair.SourcePlaylist
	}
	if np.HasArt && np.TrackID != 0 {
		m.Art = onair.ArtPath(station, np.TrackID)
	}
	return m
}

func newListenersMsg(station string, l onair.Listeners) listenersMsg {
	return listenersMsg{Station: station, Count: l.Total(), HTTP: l.HTTP, WebRTC: l.WebRTC}
}

// wireCode maps any error to one of the six codes the contract allows.
func wireCode(err error) onair.Code {
	switch code := onair.ErrorCode(err); code {
	case onair.EInvalid, onair.EUnauthorized, onair.EForbidden, onair.ENotFound, onair.ERateLimited, onair.EInternal:
		return code
	case onair.EConflict, onair.ETooLarge, onair.EUnsupported, onair.EUnprocessable:
		return onair.EInvalid
	default:
		return onair.EInternal
	}
}
