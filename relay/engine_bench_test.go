package relay

import (
	"testing"
	"time"

	"github.com/onairfm/onair"
)

// BenchmarkStationEngine measures what a live station costs, whatever its
// number of listeners: one op is 10 s of a station's playout, two tracks of
// different rates with a 2 s crossfade and loudness normalisation, driven by
// hand through the station's own code (timeline, mix, limiter, encoders).
//
//	x-realtime  seconds of audio per second of CPU (process CPU, GC
//	            included, from getrusage)
//	%core       the share of one core the station takes: 100/x-realtime
//
// The sub-benchmarks say which outputs are on: "mix" renders with no
// encoder (the floor for any listener), "mp3" and "ogg" add one HTTP
// mount, "mp3+ogg" is issue 8's measure against Liquidsoap (one MP3 and
// one Ogg/Opus listener), "idle" is a live station nobody hears.
func BenchmarkStationEngine(b *testing.B) {
	for _, c := range []struct {
		name   string
		mounts []mountKind
		awake  bool
	}{
		{"idle", nil, false},
		{"mix", nil, true},
		{"mp3", []mountKind{mountMP3}, true},
		{"ogg", []mountKind{mountOgg}, true},
		{"mp3+ogg", []mountKind{mountMP3, mountOgg}, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := benchMedia(b, "tone440.mp3", "tone660-48k.mp3")
			for i := range dir.tracks {
				dir.tracks[i].Analysis = &onair.Analysis{Loudness: -18, Peak: -3, CueOut: dir.tracks[i].Duration}
			}
			r := &Relay{MediaDir: dir.dir}
			audio := onair.AudioSettings{SampleRate: 44100, MP3Bitrate: 128000, Crossfade: 2 * time.Second,
				LoudnessEnabled: true, LoudnessTarget: -16}
			s, err := r.newStation(StationInfo{Slug: "bench", Audio: audio}, dir.tracks, PlayOptions{Loop: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.release()
			if !s.startAt(0) {
				b.Fatal("no track")
			}
			for _, k := range c.mounts {
				s.mounts[k].listeners++
			}
			const op = 10 * time.Second
			if c.awake && len(c.mounts) == 0 {
				// Render with no encoder: the station's own loop, less the
				// outputs() check that would put it back to sleep.
				s.wakeUp(false)
				b.ReportAllocs()
				cpu0 := benchCPU()
				for b.Loop() {
					for end := s.pos + s.clk.frames(op); s.pos < end; {
						if s.pos >= s.next {
							if !s.advance(0) {
								b.Fatal("station stopped")
							}
							continue
						}
						e := min(end, s.next, s.pos+blockFrames)
						s.render(s.pos, e, true)
						s.pos = e
					}
				}
				reportRealtime(b, op, benchCPU()-cpu0)
				return
			}
			step := 20 * time.Millisecond
			if len(c.mounts) > 0 || !c.awake {
				step = r.chunkDuration()
			}
			at := time.Duration(0)
			b.ReportAllocs()
			cpu0 := benchCPU()
			for b.Loop() {
				for end := at + op; at < end; at += step {
					if !s.play(s.clk.start.Add(at)) {
						b.Fatal("station stopped")
					}
				}
			}
			reportRealtime(b, op, benchCPU()-cpu0)
		})
	}
}

// reportRealtime reports audio seconds per CPU second over b.N ops of
// audio each.
func reportRealtime(b *testing.B, audio, cpu time.Duration) {
	if cpu <= 0 {
		return
	}
	x := float64(audio) * float64(b.N) / float64(cpu)
	b.ReportMetric(x, "x-realtime")
	b.ReportMetric(100/x, "%core")
}
