package load

import (
	"strings"
	"testing"
	"time"
)

func TestWithin(t *testing.T) {
	served := func() Report {
		return Report{
			HTTP:   &HTTPReport{Attempted: 10, Connected: 10, TTFBMS: Dist{N: 10, P99: 200}},
			WebRTC: &RTCReport{Attempted: 5, Connected: 5, LossPercent: 0.1, FirstPacketMS: Dist{N: 5, P99: 300}},
		}
	}
	limits := Limits{TTFBP99: time.Second, OfferP99: 2 * time.Second, LossPercent: 1}
	tests := []struct {
		name  string
		spoil func(*Report)
		want  string // "" when within
	}{
		{"served", func(*Report) {}, ""},
		{"no http asked", func(r *Report) { r.HTTP = nil }, ""},
		{"one not in", func(r *Report) { r.HTTP.Connected, r.HTTP.Failures = 9, map[string]int{"timeout": 1} }, "9 of 10 got in (timeout:1)"},
		{"dropped", func(r *Report) { r.HTTP.Dropped = 2 }, "2 dropped"},
		{"slow", func(r *Report) { r.HTTP.Slow = 1 }, "under 95%"},
		{"ran dry", func(r *Report) { r.HTTP.Underruns, r.HTTP.MaxDryMS = 3, 740 }, "3 players ran dry, longest 740 ms"},
		{"late first byte", func(r *Report) { r.HTTP.TTFBMS.P99 = 1500 }, "first byte p99 1500 ms over 1000 ms"},
		{"webrtc not in", func(r *Report) { r.WebRTC.Connected = 4 }, "WebRTC: 4 of 5 got in"},
		{"loss", func(r *Report) { r.WebRTC.LossPercent = 2.5 }, "loss 2.50% over 1.00%"},
		{"late audio", func(r *Report) { r.WebRTC.FirstPacketMS.P99 = 2500 }, "offer to audio p99 2500 ms"},
		{"errors", func(r *Report) { r.Errors = []string{"close webrtc listener: x"} }, "1 errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := served()
			tt.spoil(&r)
			why := r.Within(limits)
			switch {
			case tt.want == "" && len(why) > 0:
				t.Fatalf("not within: %q", why)
			case tt.want != "" && (len(why) != 1 || !strings.Contains(why[0], tt.want)):
				t.Fatalf("why %q, want one reason with %q", why, tt.want)
			}
		})
	}
	if why := served().Within(Limits{}); len(why) != 1 || !strings.Contains(why[0], "loss") {
		t.Fatalf("zero limits: %q, want only the loss over 0%%", why)
	}
}

func TestCheckDry(t *testing.T) {
	const bps = 16000 // 128 kbit/s
	tests := []struct {
		name    string
		elapsed time.Duration
		had     int64
		want    time.Duration
	}{
		{"ahead on the burst", 2 * time.Second, 5 * bps, 0},
		{"just in time", time.Second, bps, 0},
		{"half a second short", 3 * time.Second, 5 * bps / 2, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h httpListener
			h.checkDry(tt.elapsed, tt.had, bps)
			if h.dry != tt.want {
				t.Fatalf("dry %v, want %v", h.dry, tt.want)
			}
		})
	}
	var h httpListener
	h.checkDry(3*time.Second, bps, bps)
	h.checkDry(4*time.Second, 4*bps, bps)
	if h.dry != 2*time.Second {
		t.Fatalf("dry %v, want the longest, 2s", h.dry)
	}
}
