package analysis

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onairfm/onair/internal/testutil"
)

// Generate renders an ffmpeg filter graph (lavfi sources, output label
// [out]) to d seconds of interleaved float32 PCM at rate with ch channels.
func Generate(t testing.TB, ffmpeg, graph string, rate, ch int, d float64) []float32 {
	t.Helper()
	cmd := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-v", "error",
		"-filter_complex", graph, "-map", "[out]", "-t", fmt.Sprint(d),
		"-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(ch), "-f", "f32le", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", graph, err, stderr.String())
	}
	pcm := make([]float32, len(raw)/4)
	for i := range pcm {
		pcm[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return pcm
}

// MeasureFFmpeg returns what ffmpeg's ebur128 filter (peak=true) says of
// pcm: the integrated loudness, LUFS, and the true peak, dBTP, to the
// three decimals its frame metadata carries.
func MeasureFFmpeg(t testing.TB, ffmpeg string, pcm []float32, rate, ch int) (lufs, dbtp float64) {
	t.Helper()
	// Not t.TempDir: its name holds the test's, and ebur128's options
	// would have to escape that.
	dir, err := os.MkdirTemp("", "ebur128")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	in := filepath.Join(dir, "in.f32")
	raw := make([]byte, 4*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(dir, "meta.txt")
	cmd := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-v", "error",
		"-f", "f32le", "-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(ch), "-i", in,
		"-af", "ebur128=peak=true:metadata=1,ametadata=mode=print:file="+meta,
		"-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg ebur128: %v: %s", err, out)
	}
	f, err := os.Open(meta)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lufs, peak := math.NaN(), 0.0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch k {
		case "lavfi.r128.I":
			lufs = x
		case "lavfi.r128.true_peak":
			peak = max(peak, x)
		}
	}
	if math.IsNaN(lufs) || peak == 0 {
		t.Fatalf("ffmpeg ebur128 reported no loudness or peak")
	}
	return lufs, 20 * math.Log10(peak)
}

// TestAgainstFFmpeg compares the analyzer with ffmpeg's ebur128 on
// signals ffmpeg generates: integrated loudness within 0.5 LU, true peak
// within 0.3 dB (the observed differences are logged; they are far
// smaller).
func TestAgainstFFmpeg(t *testing.T) {
	ffmpeg := testutil.NeedTool(t, "ffmpeg")
	noise2 := func(color string, amp float64) string {
		return fmt.Sprintf("anoisesrc=color=%s:amplitude=%g:seed=1[a];anoisesrc=color=%[1]s:amplitude=%[2]g:seed=2[b];[a][b]amerge[out]", color, amp)
	}
	tests := []struct {
		name     string
		graph    string
		rate, ch int
		d        float64
	}{
		{"sine 1 kHz -18 dBFS stereo 48k", "sine=f=1000:r=48000[out]", 48000, 2, 10},
		{"sine 1 kHz -3 dBFS stereo 44.1k", "sine=f=1000:r=44100,volume=15.05dB[out]", 44100, 2, 10},
		{"sine 100 Hz -30 dBFS mono 44.1k", "sine=f=100:r=44100,volume=-12dB[out]", 44100, 1, 10},
		{"sine 10 kHz stereo 44.1k", "sine=f=10000:r=44100,volume=12dB[out]", 44100, 2, 10},
		{"sine 15 kHz mono 48k", "sine=f=15000:r=48000,volume=6dB[out]", 48000, 1, 10},
		{"sine 6 kHz stereo 22.05k", "sine=f=6000:r=22050,volume=10dB[out]", 22050, 2, 10},
		{"pink noise stereo 44.1k", noise2("pink", 0.5), 44100, 2, 20},
		{"white noise mono 22.05k", "anoisesrc=color=white:amplitude=0.3:seed=3:r=22050[out]", 22050, 1, 20},
		{"white noise stereo 48k", noise2("white", 0.25), 48000, 2, 20},
		{"brown noise stereo 48k", noise2("brown", 0.8), 48000, 2, 20},
		{"pink noise mono 96k", "anoisesrc=color=pink:amplitude=0.4:seed=4:r=96000[out]", 96000, 1, 10},
		{"gaps: tone, silence, quiet tone", "aevalsrc='if(lt(mod(t,5),2),0.5*sin(2*PI*440*t),if(lt(mod(t,5),3),0,0.02*sin(2*PI*880*t)))':s=44100[out]", 44100, 2, 30},
		{"gaps mono 48k", "aevalsrc='if(lt(mod(t,7),1),0,if(lt(mod(t,7),4),0.3*sin(2*PI*300*t),0.05*sin(2*PI*3000*t)))':s=48000[out]", 48000, 1, 30},
		{"square 441 Hz stereo 44.1k", "aevalsrc='0.4*sgn(sin(2*PI*441*t+0.3))':s=44100[out]", 44100, 2, 5},
		{"clicks in silence 48k", "aevalsrc='if(lt(mod(t,0.5),0.0005),0.7,0)':s=48000[out]", 48000, 2, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			graph := tt.graph
			if strings.HasPrefix(graph, "sine") {
				// A tone that starts or stops abruptly overshoots its
				// crest, and that transient is not what this compares.
				graph = strings.TrimSuffix(graph, "[out]") + fmt.Sprintf(
					",afade=t=in:d=0.1,afade=t=out:st=%g:d=0.1[out]", tt.d-0.1)
			}
			pcm := Generate(t, ffmpeg, graph, tt.rate, tt.ch, tt.d)
			wantI, wantTP := MeasureFFmpeg(t, ffmpeg, pcm, tt.rate, tt.ch)
			a := New(tt.rate, tt.ch)
			a.Write(pcm)
			got, err := a.Result()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loudness %.3f vs ffmpeg %.3f (%+.3f LU); true peak %.3f vs %.3f (%+.3f dB)",
				got.Loudness, wantI, got.Loudness-wantI, got.Peak, wantTP, got.Peak-wantTP)
			if math.Abs(got.Loudness-wantI) > 0.5 {
				t.Errorf("loudness %.3f LUFS, ffmpeg %.3f", got.Loudness, wantI)
			}
			if math.Abs(got.Peak-wantTP) > 0.3 {
				t.Errorf("true peak %.3f dBTP, ffmpeg %.3f", got.Peak, wantTP)
			}
		})
	}
}
