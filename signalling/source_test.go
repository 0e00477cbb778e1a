package signalling

import (
	"testing"

	"github.com/onairfm/onair"
)

func TestSourceReachesOnlyTheRoom(t *testing.T) {
	env := newEnv(t, nil)
	member := env.dial(t, nil)
	member.join("live")
	other := env.dial(t, nil)
	other.join("off")

	env.hub.Publish(onair.Event{Kind: onair.EventSource, Station: "live",
		Source: &onair.LiveSource{Kind: onair.LiveIcecast, Streamer: "DJ Test", ConnectedAt: t0}})
	f := member.expect(evSource).fields(t)
	src, _ := f["source"].(map[string]any)
	if f["station"] != "live" || src == nil || src["kind"] != "icecast" || src["streamer"] != "DJ Test" ||
		src["connected_at"] != "2025-03-01T12:00:00.123Z" || len(src) != 3 {
		t.Errorf("source %v", f)
	}
	env.hub.Publish(onair.Event{Kind: onair.EventSource, Station: "live"})
	f = member.expect(evSource).fields(t)
	if v, ok := f["source"]; !ok || v != nil || f["station"] != "live" {
		t.Errorf("source gone %v", f)
	}
	other.roundTrip("r1")
}
