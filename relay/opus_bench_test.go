package relay

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/audiotest"
)

// BenchmarkOpusPipeline measures what a live station costs for its WebRTC
// listeners, whatever their number: every MP3 frame the clock releases is
// decoded (go-mp3), resampled 44.1→48 kHz and encoded to Opus (gopus, 96
// kbit/s, 20 ms, the defaults). One op is the whole 8 s fixture, played as
// the station plays it: frame by frame through pcmDecoder, packet by packet
// through opusEncoder.
//
//	x-realtime  seconds of audio per second of CPU (process CPU, GC
//	            included, from getrusage)
//	%core       the share of one core a live station takes: 100/x-realtime
//
// The sub-benchmarks split the cost: decode+resample alone, and Opus alone
// on PCM decoded beforehand.
func BenchmarkOpusPipeline(b *testing.B) {
	frames := loadBenchFrames(b, "tone440.mp3")
	audio := frames.duration()
	b.Run("full", func(b *testing.B) {
		enc := benchEncoder(b)
		var pcm pcmDecoder
		b.ReportAllocs()
		cpu0 := benchCPU()
		for b.Loop() {
			pcm.newTrack()
			for _, f := range frames {
				if err := pcm.decode(f.data, f.samples, f.rate); err != nil {
					b.Fatal(err)
				}
				need := enc.samples * 2
				for len(pcm.out) >= need {
					if _, err := enc.encode(pcm.out[:need]); err != nil {
						b.Fatal(err)
					}
					pcm.consume(need)
				}
			}
		}
		reportRealtime(b, audio, benchCPU()-cpu0)
	})
	b.Run("decode+resample", func(b *testing.B) {
		var pcm pcmDecoder
		b.ReportAllocs()
		cpu0 := benchCPU()
		for b.Loop() {
			pcm.newTrack()
			for _, f := range frames {
				if err := pcm.decode(f.data, f.samples, f.rate); err != nil {
					b.Fatal(err)
				}
				pcm.consume(len(pcm.out))
			}
		}
		reportRealtime(b, audio, benchCPU()-cpu0)
	})
	b.Run("opus", func(b *testing.B) {
		var pcm pcmDecoder
		for _, f := range frames {
			if err := pcm.decode(f.data, f.samples, f.rate); err != nil {
				b.Fatal(err)
			}
		}
		in := append([]float32(nil), pcm.out...)
		enc := benchEncoder(b)
		need := enc.samples * 2
		b.ReportAllocs()
		cpu0 := benchCPU()
		for b.Loop() {
			for off := 0; off+need <= len(in); off += need {
				if _, err := enc.encode(in[off : off+need]); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportRealtime(b, audio, benchCPU()-cpu0)
	})
}

func benchEncoder(b *testing.B) *opusEncoder {
	enc, err := newOpusEncoder(OpusConfig{})
	if err != nil {
		b.Fatal(err)
	}
	return enc
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

// benchFrame is one MP3 frame of a fixture, copied out of the scanner.
type benchFrame struct {
	data          []byte
	samples, rate int
}

type benchFrames []benchFrame

func (fs benchFrames) duration() time.Duration {
	var d time.Duration
	for _, f := range fs {
		d += time.Duration(f.samples) * time.Second / time.Duration(f.rate)
	}
	return d
}

// loadBenchFrames reads the audio frames of a fixture as the station's
// source does.
func loadBenchFrames(b *testing.B, name string) benchFrames {
	sc := mp3.NewScanner(bytes.NewReader(audiotest.Fixture(b, name)))
	var out benchFrames
	for {
		f, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchFrame{data: bytes.Clone(f.Data), samples: f.Samples, rate: f.SampleRate})
	}
	if len(out) == 0 {
		b.Fatalf("%s: no frames", name)
	}
	return out
}
