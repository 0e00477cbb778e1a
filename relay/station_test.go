package relay

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/audio/mix"
	"github.com/onairfm/onair/ingest/mp3"
	"github.com/onairfm/onair/internal/audiotest"
	"github.com/onairfm/onair/relay/icy"
)

// drive runs a station's clock by hand from its start to d, in steps of
// step, without its goroutine.
func drive(t *testing.T, s *station, d, step time.Duration) {
	t.Helper()
	for at := time.Duration(0); at <= d; at += step {
		if !s.play(s.clk.start.Add(at)) {
			t.Fatalf("station stopped at %v", at)
		}
	}
}

// testStation makes a station of tracks, started, without its goroutine.
func testStation(t *testing.T, r *Relay, info StationInfo, tracks []onair.Track, opts PlayOptions) *station {
	t.Helper()
	s, err := r.newStation(info, tracks, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.release)
	if !s.startAt(opts.StartTrackID) {
		t.Fatal("no track")
	}
	s.announce = true
	return s
}

// tune makes the station encode kind as if a listener were there.
func tune(s *station, kind mountKind) {
	s.mu.Lock()
	s.mounts[kind].listeners++
	s.mu.Unlock()
}

// held returns every chunk a mount's ring holds.
func held(s *station, kind mountKind) []*chunk {
	r := s.mounts[kind].ring
	r.mu.Lock()
	from := r.oldest()
	r.mu.Unlock()
	chunks, _, _, _ := r.read(from, nil)
	return chunks
}

// heard decodes the MP3 chunks and returns the dominant tone of each
// second and the titles with the byte offsets where they start.
func heard(t *testing.T, chunks []*chunk) (stream []byte, titles []string, at []int) {
	t.Helper()
	for _, c := range chunks {
		for _, m := range c.marks {
			title, _ := icy.ParseStreamTitle(m.block)
			if len(titles) == 0 || titles[len(titles)-1] != title {
				at = append(at, len(stream)+m.off)
				titles = append(titles, title)
			}
		}
		stream = append(stream, c.data...)
	}
	return stream, titles, at
}

// toneAt is the dominant tone of decoded mono samples [from, to) s.
func toneAt(t *testing.T, pcm []float64, rate int, from, to float64, freqs ...float64) (float64, float64) {
	t.Helper()
	a, b := int(from*float64(rate)), int(to*float64(rate))
	b = min(b, len(pcm))
	if a >= b {
		t.Fatalf("no audio at %.1f-%.1f s (have %.1f s)", from, to, float64(len(pcm))/float64(rate))
	}
	return audiotest.Dominant(pcm[a:b], float64(rate), freqs...)
}

func metadataEvents(rec *recorder) []*onair.NowPlaying {
	var out []*onair.NowPlaying
	for _, ev := range rec.all() {
		if ev.Kind == onair.EventMetadata {
			out = append(out, ev.NowPlaying)
		}
	}
	return out
}

func TestIdleStationKeepsTimeAndReadsNothing(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	rec := &recorder{}
	opened := 0
	r := &Relay{MediaDir: dir, Publisher: rec}
	s := testStation(t, r, StationInfo{Slug: "t", Audio: onair.AudioSettings{Crossfade: 2 * time.Second}}, tracks, PlayOptions{Loop: true})
	open := s.mix.Open
	s.mix.Open = func(tr onair.Track) (mix.Source, error) { opened++; return open(tr) }
	drive(t, s, 20*time.Second, 500*time.Millisecond)
	if opened != 0 {
		t.Fatalf("a station nobody hears opened %d files", opened)
	}
	// Tracks of 8.045 s with 2 s crossfades: each next title at +6.045 s.
	evs := metadataEvents(rec)
	if len(evs) != 3 {
		t.Fatalf("%d track changes in 20 s, want 3", len(evs))
	}
	for i, np := range evs {
		want := time.Duration(i+1) * 6045 * time.Millisecond
		if got := np.StartedAt.Sub(s.clk.start); got < want-time.Millisecond || got > want+time.Millisecond {
			t.Fatalf("track change %d at %v, want %v", i, got, want)
		}
	}
	if evs[0].TrackID != 2 || evs[1].TrackID != 1 || evs[0].Source != onair.SourcePlaylist {
		t.Fatalf("order %d %d, source %q", evs[0].TrackID, evs[1].TrackID, evs[0].Source)
	}
}

func TestMixedFormatsPlayAsOneStreamWithTitlesAtTheFade(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone660-48k.mp3", "tone550-mono.mp3", "tone700-mpeg2.mp3")
	for i := range tracks {
		// Cue points from analysis cut each track to 3 s.
		tracks[i].Analysis = &onair.Analysis{Loudness: -20, Peak: -3, CueIn: time.Second, CueOut: 4 * time.Second}
	}
	r := &Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond}
	s := testStation(t, r, StationInfo{Slug: "t", Audio: onair.AudioSettings{SampleRate: 48000, Crossfade: time.Second}}, tracks, PlayOptions{Loop: true})
	tune(s, mountMP3)
	drive(t, s, 9*time.Second, 20*time.Millisecond)

	stream, titles, at := heard(t, held(s, mountMP3))
	pcm, rate, err := audiotest.DecodeMP3(stream)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 48000 {
		t.Fatalf("the stream is at %d Hz, want the station's 48000", rate)
	}
	// Items of 3 s start every 2 s (1 s of crossfade): each plays alone
	// for a second between two crossfades.
	for _, want := range []struct {
		from, to float64
		freq     float64
	}{{0.2, 1.9, 440}, {3.1, 3.9, 660}, {5.1, 5.9, 550}, {7.1, 7.9, 700}} {
		f, share := toneAt(t, pcm, rate, want.from, want.to, 440, 550, 660, 700)
		if f != want.freq || share < 0.6 {
			t.Fatalf("%.1f-%.1f s: %v Hz (%.2f), want %v", want.from, want.to, f, share, want.freq)
		}
	}
	// Across a crossfade both tones sound and the level never drops.
	mid := int(2.5 * float64(rate))
	win := pcm[mid-rate/20 : mid+rate/20]
	if p1, p2 := audiotest.Power(win, float64(rate), 440), audiotest.Power(win, float64(rate), 660); p1 < 0.2 || p2 < 0.2 {
		t.Fatalf("mid-crossfade: 440 Hz %.2f, 660 Hz %.2f of the energy, want both", p1, p2)
	}
	for w := rate / 10; w+rate/20 < len(pcm)-rate/10; w += rate / 20 {
		if audiotest.RMS(pcm[w:w+rate/20]) < 0.05 {
			t.Fatalf("a gap at %.2f s", float64(w)/float64(rate))
		}
	}
	// Each title starts at the first frame at or after its fade-in.
	want := []string{"Test Artist - Tone 440", "Test Artist - Tone 660 48k", "Tone 550 mono", "Tone 700 22k", "Test Artist - Tone 440"}
	if len(titles) < 4 {
		t.Fatalf("titles %q", titles)
	}
	bytesPerSec := float64(len(stream)) / (float64(len(pcm)) / float64(rate))
	for i, title := range titles {
		if title != want[i] {
			t.Fatalf("title %d %q, want %q", i, title, want[i])
		}
		start := float64(at[i]) / bytesPerSec
		if wantAt := 2 * float64(i); start < wantAt-0.01 || start > wantAt+0.05 {
			t.Fatalf("title %q starts at %.3f s of audio, want %.0f s (the fade-in)", title, start, wantAt)
		}
	}
}

// TestMPEG25TrackPlays: an 8 kHz MPEG-2.5 track (a 300 Hz sine at 0.5,
// mono) is resampled into the station's 44.1 kHz stream at its level, and
// the next track follows it.
func TestMPEG25TrackPlays(t *testing.T) {
	dir, tracks := mediaDir(t, "mpeg25-8k.mp3", "tone440.mp3")
	r := &Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond}
	s := testStation(t, r, StationInfo{Slug: "t", Audio: onair.AudioSettings{SampleRate: 44100}}, tracks, PlayOptions{Loop: true})
	tune(s, mountMP3)
	drive(t, s, 5*time.Second, 20*time.Millisecond)

	stream, titles, _ := heard(t, held(s, mountMP3))
	pcm, rate, err := audiotest.DecodeMP3(stream)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 44100 {
		t.Fatalf("the stream is at %d Hz, want the station's 44100", rate)
	}
	if f, share := toneAt(t, pcm, rate, 0.3, 2.8, 300, 440); f != 300 || share < 0.95 {
		t.Fatalf("0.3-2.8 s: %v Hz (%.2f), want 300", f, share)
	}
	if r := audiotest.RMS(pcm[rate/2 : rate*5/2]); math.Abs(r-0.5/math.Sqrt2) > 0.05 {
		t.Errorf("RMS %.3f, want a 0.5 sine's %.3f", r, 0.5/math.Sqrt2)
	}
	if f, share := toneAt(t, pcm, rate, 3.5, 4.5, 300, 440); f != 440 || share < 0.95 {
		t.Fatalf("3.5-4.5 s: %v Hz (%.2f), want the next track's 440", f, share)
	}
	if len(titles) < 2 || titles[0] != "MPEG 2.5" || titles[1] != "Test Artist - Tone 440" {
		t.Fatalf("titles %q", titles)
	}
}

func TestLoudnessNormalisationEvensOutTracks(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	// Pretend track 2 was measured 12 LU louder than track 1.
	tracks[0].Analysis = &onair.Analysis{Loudness: -16, Peak: -10, CueOut: 8 * time.Second}
	tracks[1].Analysis = &onair.Analysis{Loudness: -4, Peak: 2, CueOut: 8 * time.Second}
	r := &Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond}
	s := testStation(t, r, StationInfo{Slug: "t", Audio: onair.AudioSettings{LoudnessEnabled: true, LoudnessTarget: -16}}, tracks, PlayOptions{Loop: true})
	tune(s, mountMP3)
	drive(t, s, 12*time.Second, 20*time.Millisecond)
	stream, _, _ := heard(t, held(s, mountMP3))
	pcm, rate, err := audiotest.DecodeMP3(stream)
	if err != nil {
		t.Fatal(err)
	}
	a := audiotest.RMS(pcm[1*rate : 7*rate])
	b := audiotest.RMS(pcm[9*rate : 11*rate])
	// The fixtures are equally loud; the gains are 0 and -12 dB.
	if ratio := 20 * (math.Log10(a) - math.Log10(b)); ratio < 11 || ratio > 13 {
		t.Fatalf("level difference %.1f dB, want 12 (gains 0 and -12 dB)", ratio)
	}
}

func TestJinglesEveryNTracks(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3", "tone1320.mp3")
	tracks[2].Kind = onair.KindJingle
	rec := &recorder{}
	r := &Relay{MediaDir: dir, Publisher: rec}
	s := testStation(t, r, StationInfo{Slug: "t", Audio: onair.AudioSettings{JingleEvery: 2}}, tracks, PlayOptions{Loop: true})
	drive(t, s, 45*time.Second, 500*time.Millisecond)
	var got []int64
	var sources []string
	for _, np := range metadataEvents(rec) {
		got = append(got, np.TrackID)
		sources = append(sources, np.Source)
	}
	// Track 1 started the station; then 2, the jingle, and around again.
	want := []int64{2, 3, 1, 2, 3}
	if len(got) < len(want) {
		t.Fatalf("played %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("played %v, want %v", got, want)
		}
	}
	if sources[1] != onair.SourceJingle || sources[2] != onair.SourcePlaylist {
		t.Fatalf("sources %q", sources)
	}
}

func TestStationSkipAndDeleteCurrent(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3", "tone1320.mp3")
	r := &Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond}
	s := testStation(t, r, StationInfo{Slug: "t"}, tracks, PlayOptions{Loop: false})
	drive(t, s, time.Second, 20*time.Millisecond)

	if !s.nextTrack() || s.nowPlaying().TrackID != 2 {
		t.Fatalf("skip went to %d, want 2", s.nowPlaying().TrackID)
	}
	// Deleting the playing track moves on at once.
	if !s.setPlaylist([]onair.Track{tracks[0], tracks[2]}, false, false) {
		t.Fatal("station stopped after deleting the playing track")
	}
	if got := s.nowPlaying().TrackID; got != 3 {
		t.Fatalf("after deleting the playing track, playing %d, want 3", got)
	}
	// Without loop, the last track plays to its end and the station stops.
	stopped := false
	for at := time.Second; at < 20*time.Second && !stopped; at += 100 * time.Millisecond {
		stopped = !s.play(s.clk.start.Add(at))
	}
	if !stopped {
		t.Fatal("the station went on after its last track without loop")
	}
}

func TestStationStartsAtTrack(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	r := &Relay{MediaDir: dir}
	s := testStation(t, r, StationInfo{Slug: "t"}, tracks, PlayOptions{StartTrackID: 2})
	if got := s.nowPlaying().TrackID; got != 2 {
		t.Fatalf("playing %d, want 2", got)
	}
}

func TestMissingFileSoundsAsSilenceAndStationGoesOn(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	os.Remove(filepath.Join(dir, "tone440.mp3"))
	r := &Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond}
	s := testStation(t, r, StationInfo{Slug: "t"}, tracks, PlayOptions{Loop: true})
	tune(s, mountMP3)
	drive(t, s, 10*time.Second, 50*time.Millisecond)
	stream, _, _ := heard(t, held(s, mountMP3))
	pcm, rate, err := audiotest.DecodeMP3(stream)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := toneAt(t, pcm, rate, 8.5, 9.5, 440, 880); f != 880 {
		t.Fatalf("after the missing track: %v Hz", f)
	}
}

func TestStationMetadataOverride(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	rec := &recorder{}
	r := &Relay{MediaDir: dir, Publisher: rec}
	s := testStation(t, r, StationInfo{Slug: "t"}, tracks, PlayOptions{Loop: true})
	title, show := "Live Title", "Morning Show"
	s.setMetadata(onair.MetadataUpdate{Title: &title, Show: &show})
	np := s.nowPlaying()
	if np.Title != title || np.Artist != "Test Artist" || np.Show != show {
		t.Fatalf("now playing %+v", np)
	}
	if got, _ := icy.ParseStreamTitle(s.title.block); got != "Test Artist - Live Title" {
		t.Fatalf("ICY title %q", got)
	}
	// The next track brings its own title but keeps the show.
	s.nextTrack()
	np = s.nowPlaying()
	if np.Title != "Tone 880" || np.Show != show {
		t.Fatalf("after the next track: %+v", np)
	}
	evs := rec.all()
	if last := evs[len(evs)-1]; last.Kind != onair.EventMetadata || last.NowPlaying.Title != "Tone 880" {
		t.Fatalf("last event %+v", last)
	}
}

func TestStartAtAJingle(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3", "tone880.mp3")
	tracks[1].Kind = onair.KindJingle
	r := &Relay{MediaDir: dir}
	s := testStation(t, r, StationInfo{Slug: "t"}, tracks, PlayOptions{StartTrackID: 2})
	if np := s.nowPlaying(); np.TrackID != 2 || np.Source != onair.SourceJingle {
		t.Fatalf("playing %d from %q, want the jingle", np.TrackID, np.Source)
	}
}

func TestMP3BitrateChangesForTheNextListener(t *testing.T) {
	dir, tracks := mediaDir(t, "tone440.mp3")
	r := &Relay{MediaDir: dir, ChunkDuration: 100 * time.Millisecond}
	s := testStation(t, r, StationInfo{Slug: "t", Audio: onair.AudioSettings{MP3Bitrate: 128000}}, tracks, PlayOptions{Loop: true})
	tune(s, mountMP3)
	drive(t, s, time.Second, 20*time.Millisecond)
	s.setAudio(onair.AudioSettings{MP3Bitrate: 192000})
	if got := s.bitrate.Load(); got != 128000 {
		t.Fatalf("icy-br %d while a listener hears 128 kbit/s", got)
	}
	// The listener leaves; the next one gets the new bitrate.
	s.mu.Lock()
	s.mounts[mountMP3].listeners--
	s.mu.Unlock()
	s.outputs()
	tune(s, mountMP3)
	s.outputs()
	if got := s.bitrate.Load(); got != 192000 {
		t.Fatalf("icy-br %d for the next listener, want 192000", got)
	}
	c := held(s, mountMP3)
	if len(c) == 0 {
		t.Fatal("no burst for the next listener")
	}
	h, err := mp3.ParseHeader(c[0].data)
	if err != nil || h.Bitrate != 192000 {
		t.Fatalf("first frame %+v, %v: want 192 kbit/s", h, err)
	}
}
