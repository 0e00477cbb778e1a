package load

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured. Latencies are in milliseconds, rates in
// audio bytes per second, CPU in percent of one core.
type Report struct {
	Label     string    `json:"label,omitempty"`
	Server    string    `json:"server"`
	Station   string    `json:"station,omitempty"`
	Mode      string    `json:"mode"`
	Start     time.Time `json:"start"`
	Baseline  float64   `json:"baseline_seconds"`
	Connect   float64   `json:"connect_seconds"` // first dial to last client in (or failed)
	Steady    float64   `json:"steady_seconds"`
	MaxConnMS float64   `json:"max_connect_ms"`

	HTTP   *HTTPReport `json:"http,omitempty"`
	WebRTC *RTCReport  `json:"webrtc,omitempty"`
	WS     *WSReport   `json:"ws,omitempty"`
	Proc   *ProcReport `json:"server_proc,omitempty"`
	// ToolCPU is what this tool itself used: on a small machine its
	// share is CPU the server did not have.
	ToolCPU ToolCPU       `json:"tool_cpu_percent"`
	Errors  []string      `json:"errors,omitempty"`
	Config  configSummary `json:"config"`
}

type configSummary struct {
	HTTP         int    `json:"http"`
	WebRTC       int    `json:"webrtc"`
	WS           int    `json:"ws"`
	Ramp         string `json:"ramp,omitempty"`
	DecodeSample int    `json:"decode_sample"`
	Events       int    `json:"events"`
	StreamPath   string `json:"stream_path,omitempty"`
}

// HTTPReport sums up the HTTP listeners. A listener got in when it
// received audio within MaxConnect; it was dropped when its connection
// ended before the run did.
type HTTPReport struct {
	Attempted   int            `json:"attempted"`
	Connected   int            `json:"connected"`
	Failed      int            `json:"failed"`
	Dropped     int            `json:"dropped"`
	SuccessRate float64        `json:"success_rate"`
	Failures    map[string]int `json:"failures,omitempty"`
	ConnectMS   Dist           `json:"connect_ms"` // dial to response head
	TTFBMS      Dist           `json:"ttfb_ms"`    // dial to first audio byte
	RateBps     Dist           `json:"rate_bps"`   // steady phase, per listener
	ExpectedBps float64        `json:"expected_bps"`
	// Slow counts listeners whose steady rate was under 95% of the
	// expected rate (dropped ones included).
	Slow int `json:"slow"`
	// Underruns counts listeners whose player would have run dry: one
	// that starts at its first byte, at icy-br, on what the server burst.
	// On a machine shared with the tool, a tool too busy to read counts
	// too. MaxDryMS is the longest such wait.
	Underruns int          `json:"underruns"`
	MaxDryMS  float64      `json:"max_dry_ms"`
	ICYBlocks int64        `json:"icy_blocks"`
	Listeners []HTTPResult `json:"listeners,omitempty"`
}

// RTCReport sums up the WebRTC listeners.
type RTCReport struct {
	Attempted     int            `json:"attempted"`
	Connected     int            `json:"connected"`
	Failed        int            `json:"failed"`
	Dropped       int            `json:"dropped"`
	SuccessRate   float64        `json:"success_rate"`
	Failures      map[string]int `json:"failures,omitempty"`
	ConnectMS     Dist           `json:"connect_ms"`        // socket dial to first packet
	FirstPacketMS Dist           `json:"offer_to_first_ms"` // offer to first packet
	Packets       int64          `json:"packets"`           // steady phase, all listeners
	Expected      int64          `json:"expected"`
	LossPercent   float64        `json:"loss_percent"` // 1 - packets/expected
	SeqLost       int64          `json:"seq_lost"`     // sequence gaps seen
	Decoding      int            `json:"decoding"`
	DecodedRMS    float64        `json:"decoded_rms"`
	DecodedSec    float64        `json:"decoded_seconds"`
	Listeners     []RTCResult    `json:"listeners,omitempty"`
}

// WSReport sums up the WebSocket clients and the metadata events timed at
// each of them.
type WSReport struct {
	Attempted int            `json:"attempted"`
	Joined    int            `json:"joined"`
	Failed    int            `json:"failed"`
	Dropped   int            `json:"dropped"`
	Failures  map[string]int `json:"failures,omitempty"`
	JoinMS    Dist           `json:"join_ms"`
	Events    int            `json:"events"`
	// EventMS is the time from sending a metadata change to a client
	// reading its stream:metadata, over every (event, client) pair.
	EventMS Dist `json:"event_latency_ms"`
	Missed  int  `json:"missed"`
	// LastClientMS is, for each event, when the last client read it.
	LastClientMS []float64  `json:"last_client_ms,omitempty"`
	Clients      []WSResult `json:"clients,omitempty"`
}

// ToolCPU is the load tool's own CPU, in percent of one core.
type ToolCPU struct {
	Connect float64 `json:"connect"`
	Steady  float64 `json:"steady"`
}

// ProcReport is the server process as /proc showed it.
type ProcReport struct {
	PID         int     `json:"pid"`
	BaselineCPU float64 `json:"baseline_cpu_percent"`
	ConnectCPU  float64 `json:"connect_cpu_percent"`
	SteadyCPU   float64 `json:"steady_cpu_percent"`
	// SessionCPU is the whole session, from the first client's arrival
	// to the end of the steady phase: connecting, settling and listening.
	SessionCPU    float64 `json:"session_cpu_percent"`
	BaselineRSSKB int64   `json:"baseline_rss_kb"`
	SteadyRSSKB   int64   `json:"steady_rss_kb"` // at the end of the steady phase
	PeakRSSKB     int64   `json:"peak_rss_kb"`
	Threads       int     `json:"threads"`
	// Listeners are the HTTP and WebRTC listeners connected through the
	// steady phase; the per-listener figures divide by it, so run one kind
	// at a time for per-kind figures.
	Listeners           int     `json:"listeners"`
	CPUMicrosPerListenS float64 `json:"cpu_us_per_listener_second"`
	RSSKBPerListener    float64 `json:"rss_kb_per_listener"`
	// Clients adds the WebSocket clients to Listeners, for runs of
	// WebSocket clients alone.
	Clients           int          `json:"clients"`
	CPUMicrosPerClntS float64      `json:"cpu_us_per_client_second"`
	RSSKBPerClient    float64      `json:"rss_kb_per_client"`
	Samples           []ProcSample `json:"samples,omitempty"`
	Error             string       `json:"error,omitempty"`
}

// Table renders the report for a terminal.
func (r Report) Table() string {
	var b strings.Builder
	name := r.Label
	if name == "" {
		name = "server"
	}
	fmt.Fprintf(&b, "%s %s %s: mode %s, baseline %.1f s, connect %.1f s, steady %.1f s\n",
		name, r.Server, r.Config.StreamPath, r.Mode, r.Baseline, r.Connect, r.Steady)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	dist := func(what string, d Dist, unit string) {
		if d.N == 0 {
			row("", what, "-")
			return
		}
		row("", what, fmt.Sprintf("p50 %s", num(d.P50)), fmt.Sprintf("p95 %s", num(d.P95)),
			fmt.Sprintf("p99 %s", num(d.P99)), fmt.Sprintf("max %s %s", num(d.Max), unit))
	}
	if h := r.HTTP; h != nil {
		row("HTTP", fmt.Sprintf("%d tried", h.Attempted), fmt.Sprintf("%d in (%.1f%%)", h.Connected, 100*h.SuccessRate),
			fmt.Sprintf("%d failed %s", h.Failed, failures(h.Failures)), fmt.Sprintf("%d dropped", h.Dropped), fmt.Sprintf("%d slow", h.Slow))
		dist("connect", h.ConnectMS, "ms")
		dist("first byte", h.TTFBMS, "ms")
		row("", "rate B/s", fmt.Sprintf("min %s", num(h.RateBps.Min)), fmt.Sprintf("p50 %s", num(h.RateBps.P50)),
			fmt.Sprintf("max %s", num(h.RateBps.Max)), fmt.Sprintf("expected %s", num(h.ExpectedBps)))
		row("", "icy blocks", fmt.Sprint(h.ICYBlocks))
		row("", "underruns", fmt.Sprint(h.Underruns), fmt.Sprintf("longest %s ms", num(h.MaxDryMS)))
	}
	if w := r.WebRTC; w != nil {
		row("WebRTC", fmt.Sprintf("%d tried", w.Attempted), fmt.Sprintf("%d in (%.1f%%)", w.Connected, 100*w.SuccessRate),
			fmt.Sprintf("%d failed %s", w.Failed, failures(w.Failures)), fmt.Sprintf("%d dropped", w.Dropped), "")
		dist("connect", w.ConnectMS, "ms")
		dist("offer→audio", w.FirstPacketMS, "ms")
		row("", "packets", fmt.Sprintf("%d of %d", w.Packets, w.Expected), fmt.Sprintf("loss %.2f%%", w.LossPercent),
			fmt.Sprintf("seq gaps %d", w.SeqLost))
		if w.Decoding > 0 {
			row("", "decoded", fmt.Sprintf("%d listeners", w.Decoding), fmt.Sprintf("%.1f s", w.DecodedSec), fmt.Sprintf("rms %.3f", w.DecodedRMS))
		}
	}
	if w := r.WS; w != nil {
		row("WS", fmt.Sprintf("%d tried", w.Attempted), fmt.Sprintf("%d joined", w.Joined),
			fmt.Sprintf("%d failed %s", w.Failed, failures(w.Failures)), fmt.Sprintf("%d dropped", w.Dropped), "")
		dist("join", w.JoinMS, "ms")
		if w.Events > 0 {
			dist(fmt.Sprintf("event (%d)", w.Events), w.EventMS, "ms")
			row("", "missed", fmt.Sprint(w.Missed))
		}
	}
	if p := r.Proc; p != nil {
		row("server", fmt.Sprintf("pid %d", p.PID), fmt.Sprintf("%d threads", p.Threads))
		row("", "CPU %", fmt.Sprintf("baseline %.1f", p.BaselineCPU), fmt.Sprintf("connect %.1f", p.ConnectCPU), fmt.Sprintf("steady %.1f", p.SteadyCPU))
		row("", "", fmt.Sprintf("session %.1f", p.SessionCPU), "", "")
		row("", "RSS MB", fmt.Sprintf("baseline %.1f", float64(p.BaselineRSSKB)/1024), fmt.Sprintf("steady %.1f", float64(p.SteadyRSSKB)/1024), fmt.Sprintf("peak %.1f", float64(p.PeakRSSKB)/1024))
		if p.Listeners > 0 {
			row("", fmt.Sprintf("per listener (%d)", p.Listeners), fmt.Sprintf("%.1f µs CPU/s", p.CPUMicrosPerListenS), fmt.Sprintf("%.1f KB RSS", p.RSSKBPerListener))
		}
		if p.Clients > p.Listeners {
			row("", fmt.Sprintf("per client (%d)", p.Clients), fmt.Sprintf("%.1f µs CPU/s", p.CPUMicrosPerClntS), fmt.Sprintf("%.1f KB RSS", p.RSSKBPerClient))
		}
		if p.Error != "" {
			row("", "error", p.Error)
		}
	}
	row("tool", "CPU %", fmt.Sprintf("connect %.1f", r.ToolCPU.Connect), fmt.Sprintf("steady %.1f", r.ToolCPU.Steady))
	_ = tw.Flush()
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	return b.String()
}

func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10 || v <= -10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func failures(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// ErrNobodyIn is a run in which no client of a kind asked for got in: the
// server is down or broken, not slow.
var ErrNobodyIn = errors.New("load: no client got in")

// Check returns ErrNobodyIn when a kind of client was asked for and none
// of them got in. It says nothing about speed.
func (r Report) Check() error {
	var none []string
	if r.HTTP != nil && r.HTTP.Attempted > 0 && r.HTTP.Connected == 0 {
		none = append(none, "HTTP")
	}
	if r.WebRTC != nil && r.WebRTC.Attempted > 0 && r.WebRTC.Connected == 0 {
		none = append(none, "WebRTC")
	}
	if r.WS != nil && r.WS.Attempted > 0 && r.WS.Joined == 0 {
		none = append(none, "WebSocket")
	}
	if len(none) > 0 {
		return fmt.Errorf("%w: %s", ErrNobodyIn, strings.Join(none, ", "))
	}
	return nil
}
