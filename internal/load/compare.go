package load

import (
	"fmt"
	"net"
	"strings"
	"text/tabwriter"
)

// Compare renders two HTTP runs side by side, a against b (onair against
// Icecast2), with the ratio a/b of each figure: under 1 means a needs less
// or is faster.
func Compare(title string, a, b Report) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s\n", title)
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	name := func(r Report, def string) string {
		if r.Label != "" {
			return r.Label
		}
		return def
	}
	fmt.Fprintf(tw, "\t%s\t%s\t%s/%s\t\n", name(a, "a"), name(b, "b"), name(a, "a"), name(b, "b"))
	row := func(what string, va, vb float64, format string, ratio bool) {
		r := ""
		if ratio && vb != 0 {
			r = fmt.Sprintf("%.2f×", va/vb)
		}
		fmt.Fprintf(tw, "%s\t"+format+"\t"+format+"\t%s\t\n", what, va, vb, r)
	}
	ha, hb := a.HTTP, b.HTTP
	if ha == nil {
		ha = &HTTPReport{}
	}
	if hb == nil {
		hb = &HTTPReport{}
	}
	if ha.Attempted+hb.Attempted > 0 {
		fmt.Fprintf(tw, "HTTP listeners in\t%d/%d\t%d/%d\t\t\n", ha.Connected, ha.Attempted, hb.Connected, hb.Attempted)
		row("success rate %", 100*ha.SuccessRate, 100*hb.SuccessRate, "%.1f", false)
		row("first byte p50 ms", ha.TTFBMS.P50, hb.TTFBMS.P50, "%.1f", true)
		row("first byte p95 ms", ha.TTFBMS.P95, hb.TTFBMS.P95, "%.1f", true)
		row("first byte p99 ms", ha.TTFBMS.P99, hb.TTFBMS.P99, "%.1f", true)
		row("connect p95 ms", ha.ConnectMS.P95, hb.ConnectMS.P95, "%.1f", true)
		row("rate p50 B/s", ha.RateBps.P50, hb.RateBps.P50, "%.0f", false)
		row("rate min B/s", ha.RateBps.Min, hb.RateBps.Min, "%.0f", false)
		fmt.Fprintf(tw, "slow / dropped\t%d / %d\t%d / %d\t\t\n", ha.Slow, ha.Dropped, hb.Slow, hb.Dropped)
	}
	if ra, rb := a.WebRTC, b.WebRTC; ra != nil || rb != nil {
		if ra == nil {
			ra = &RTCReport{}
		}
		if rb == nil {
			rb = &RTCReport{}
		}
		fmt.Fprintf(tw, "WebRTC listeners in\t%d/%d\t%d/%d\t\t\n", ra.Connected, ra.Attempted, rb.Connected, rb.Attempted)
		row("offer → first packet p50 ms", ra.FirstPacketMS.P50, rb.FirstPacketMS.P50, "%.1f", true)
		row("offer → first packet p95 ms", ra.FirstPacketMS.P95, rb.FirstPacketMS.P95, "%.1f", true)
		fmt.Fprintf(tw, "packets / expected\t%d / %d\t%d / %d\t\t\n", ra.Packets, ra.Expected, rb.Packets, rb.Expected)
		fmt.Fprintf(tw, "sequence gaps\t%d\t%d\t\t\n", ra.SeqLost, rb.SeqLost)
		// A server that cannot keep up sends fewer packets and so spends
		// less: per packet delivered is the fair figure then.
		row("server CPU µs per packet delivered", perPacket(a), perPacket(b), "%.2f", true)
	}
	pa, pb := a.Proc, b.Proc
	if pa != nil && pb != nil {
		row("server CPU % steady", pa.SteadyCPU, pb.SteadyCPU, "%.1f", true)
		row("server CPU % baseline", pa.BaselineCPU, pb.BaselineCPU, "%.1f", false)
		row("server CPU % connecting", pa.ConnectCPU, pb.ConnectCPU, "%.1f", true)
		row("server CPU % whole session", pa.SessionCPU, pb.SessionCPU, "%.1f", true)
		row("CPU µs per listener-s", pa.CPUMicrosPerListenS, pb.CPUMicrosPerListenS, "%.1f", true)
		row("RSS KB per listener", pa.RSSKBPerListener, pb.RSSKBPerListener, "%.1f", true)
		row("RSS MB steady", float64(pa.SteadyRSSKB)/1024, float64(pb.SteadyRSSKB)/1024, "%.1f", true)
		row("RSS MB peak", float64(pa.PeakRSSKB)/1024, float64(pb.PeakRSSKB)/1024, "%.1f", true)
	}
	row("load tool CPU % steady", a.ToolCPU.Steady, b.ToolCPU.Steady, "%.1f", false)
	_ = tw.Flush()
	return sb.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// scripts that must name a port in a server's config.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("load: free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// perPacket is the server's CPU in the steady phase, above its baseline,
// per WebRTC packet its listeners received; 0 when unknown.
func perPacket(r Report) float64 {
	if r.Proc == nil || r.WebRTC == nil || r.WebRTC.Packets == 0 {
		return 0
	}
	return (r.Proc.SteadyCPU - r.Proc.BaselineCPU) / 100 * r.Steady * 1e6 / float64(r.WebRTC.Packets)
}
