package load

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// eventGrace is how long, after the steady phase, the run waits for the
// last metadata events to reach every WebSocket client.
const eventGrace = 5 * time.Second

// Run runs one bounded load against a server on 127.0.0.1: a baseline
// with no clients, the clients coming in (ramp or flash crowd), a pause,
// then the steady phase that the rates and the per-listener costs come
// from. Every client is closed before Run returns. The report is filled
// as far as the run got, also when it returns an error.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.withDefaults()
	addr, err := cfg.validate()
	if err != nil {
		return Report{}, err
	}
	if err := checkFDs(cfg); err != nil {
		return Report{}, err
	}
	limit := cfg.Baseline + cfg.MaxConnect + cfg.Settle + cfg.Duration + eventGrace + 30*time.Second
	if cfg.Mode == ModeRamp {
		limit += cfg.Ramp
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	r := &run{cfg: cfg, addr: addr, wsURL: "ws://" + addr + "/ws", prefix: fmt.Sprintf("onair-load %d #", time.Now().UnixNano())}
	if cfg.Token != "" {
		if r.api, err = newAPI(cfg.Server, cfg.Token); err != nil {
			return Report{}, err
		}
	}
	return r.do(ctx)
}

// run is the state of one Run.
type run struct {
	cfg    Config
	addr   string
	wsURL  string
	prefix string
	api    *api

	http []*httpListener
	rtc  []*rtcListener
	ws   []*wsClient
	// wsAlive says, per WebSocket client, whether it was still connected
	// at the end of the steady phase.
	wsAlive []bool

	mu     sync.Mutex
	errors []string
}

func (r *run) errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errors) < 20 {
		r.errors = append(r.errors, fmt.Sprintf(format, args...))
	}
}

// snapshot holds counters at one edge of the steady phase.
type snapshot struct {
	at    time.Time
	audio []int64 // per HTTP listener
	pkts  []int64 // per WebRTC listener
	lost  []int64
}

func (r *run) snapshot() snapshot {
	s := snapshot{at: time.Now(), audio: make([]int64, len(r.http)), pkts: make([]int64, len(r.rtc)), lost: make([]int64, len(r.rtc))}
	for i, h := range r.http {
		s.audio[i] = h.audio.Load()
	}
	for i, l := range r.rtc {
		s.pkts[i], s.lost[i] = l.packets()
	}
	return s
}

// phases are the edges of a run, as /proc saw them.
type phases struct {
	base0, base1, conn1, steady0, steady1 ProcSample
	ok                                    bool
}

func (r *run) do(ctx context.Context) (Report, error) {
	cfg := r.cfg
	rep := Report{Label: cfg.Label, Server: cfg.Server, Station: cfg.Station, Mode: cfg.Mode, Start: time.Now(),
		MaxConnMS: ms(cfg.MaxConnect), Config: configSummary{HTTP: cfg.HTTP, WebRTC: cfg.WebRTC, WS: cfg.WS,
			DecodeSample: min(cfg.DecodeSample, cfg.WebRTC), StreamPath: cfg.StreamPath}}
	if cfg.Mode == ModeRamp {
		rep.Config.Ramp = cfg.Ramp.String()
	}
	events := 0
	if r.api != nil && cfg.WS > 0 {
		events = cfg.Events
	}
	rep.Config.Events = events
	smp := startSampler(cfg.PID, cfg.SampleEvery)
	// The edges of the phases, for the server and for this tool, which
	// shares the machine with it.
	var at, me [5]ProcSample
	var ok [5]bool
	self := os.Getpid()
	mark := func(i int) {
		at[i], ok[i] = smp.mark()
		me[i], _ = readProc(self)
	}
	mark(0)

	for range cfg.HTTP {
		r.http = append(r.http, newHTTPListener(r.addr, cfg.StreamPath, cfg.MaxConnect))
	}
	// A decoding listener keeps what it decodes from its start to the
	// end of the steady phase.
	keep := cfg.MaxConnect + cfg.Settle + cfg.Duration + 5*time.Second
	if cfg.Mode == ModeRamp {
		keep += cfg.Ramp
	}
	for i := range cfg.WebRTC {
		r.rtc = append(r.rtc, newRTCListener(r.wsURL, cfg.Station, i < cfg.DecodeSample, keep, cfg.MaxConnect))
	}
	for range cfg.WS {
		r.ws = append(r.ws, newWSClient(r.wsURL, cfg.Station, r.prefix, events, cfg.MaxConnect))
	}

	clientCtx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopClients()
		wg.Wait()
		for _, l := range r.rtc {
			if err := l.close(); err != nil {
				r.errorf("close webrtc listener: %v", err)
			}
		}
	}
	defer stop()

	var runErr error
	var s0, s1 snapshot
	var sent []time.Time
	func() {
		if runErr = sleep(ctx, cfg.Baseline); runErr != nil {
			return
		}
		mark(1)
		connStart := time.Now()
		r.launch(clientCtx, &wg)
		if runErr = r.waitReady(ctx); runErr != nil {
			return
		}
		rep.Connect = time.Since(connStart).Seconds()
		mark(2)
		if runErr = sleep(ctx, cfg.Settle); runErr != nil {
			return
		}
		mark(3)
		s0 = r.snapshot()
		evDone := make(chan []time.Time, 1)
		go func() { evDone <- r.sendEvents(ctx, s0.at, events) }()
		runErr = sleep(ctx, cfg.Duration)
		s1 = r.snapshot()
		mark(4)
		sent = <-evDone
		if runErr == nil {
			r.waitEvents(ctx, sent)
		}
	}()
	ph := phases{at[0], at[1], at[2], at[3], at[4], ok == [5]bool{true, true, true, true, true}}
	if !me[4].At.IsZero() {
		rep.ToolCPU = ToolCPU{Connect: cpuPercent(me[1], me[2]), Steady: cpuPercent(me[3], me[4])}
	}
	if !s1.at.IsZero() {
		rep.Steady = s1.at.Sub(s0.at).Seconds()
	}
	rep.Baseline = cfg.Baseline.Seconds()
	alive := r.aliveListeners()
	clients := alive
	for _, w := range r.ws {
		ok := w.alive()
		r.wsAlive = append(r.wsAlive, ok)
		if ok {
			clients++
		}
	}
	stop()
	samples, perr := smp.stop()

	r.reportHTTP(&rep, s0, s1)
	r.reportRTC(&rep, s0, s1)
	r.reportWS(&rep, sent)
	if cfg.PID != 0 {
		rep.Proc = procReport(cfg.PID, ph, samples, perr, alive, clients)
	}
	rep.Errors = r.errors
	if runErr != nil {
		return rep, fmt.Errorf("load: run stopped: %w", runErr)
	}
	return rep, nil
}

// launch starts every client: all at once in flash mode, evenly spread
// over the ramp otherwise, with the kinds interleaved.
func (r *run) launch(ctx context.Context, wg *sync.WaitGroup) {
	var starters []func()
	for i := range max(len(r.http), len(r.rtc), len(r.ws)) {
		if i < len(r.http) {
			h := r.http[i]
			starters = append(starters, func() { h.run(ctx) })
		}
		if i < len(r.rtc) {
			l := r.rtc[i]
			starters = append(starters, func() { l.connect(ctx) })
		}
		if i < len(r.ws) {
			w := r.ws[i]
			starters = append(starters, func() { w.run(ctx) })
		}
	}
	start := time.Now()
	for i, f := range starters {
		if r.cfg.Mode == ModeRamp && i > 0 {
			at := start.Add(r.cfg.Ramp * time.Duration(i) / time.Duration(len(starters)))
			if sleep(ctx, time.Until(at)) != nil {
				return
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
}

// waitReady waits until every client got in or gave up.
func (r *run) waitReady(ctx context.Context) error {
	var chans []chan struct{}
	for _, h := range r.http {
		chans = append(chans, h.ready)
	}
	for _, l := range r.rtc {
		chans = append(chans, l.ready)
	}
	for _, w := range r.ws {
		chans = append(chans, w.ready)
	}
	for _, c := range chans {
		select {
		case <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// sendEvents changes the station's title events times, evenly over the
// steady phase, and returns when each change was sent (zero: failed).
func (r *run) sendEvents(ctx context.Context, start time.Time, events int) []time.Time {
	sent := make([]time.Time, events)
	if events == 0 {
		return sent
	}
	gap := r.cfg.Duration / time.Duration(events+1)
	for k := range events {
		if sleep(ctx, time.Until(start.Add(gap*time.Duration(k+1)))) != nil {
			return sent
		}
		at := time.Now()
		if err := r.api.setTitle(ctx, r.cfg.Station, r.prefix+strconv.Itoa(k)); err != nil {
			r.errorf("metadata event %d: %v", k, err)
			continue
		}
		sent[k] = at
	}
	return sent
}

// waitEvents gives the last events up to eventGrace to reach every client
// still connected.
func (r *run) waitEvents(ctx context.Context, sent []time.Time) {
	if len(sent) == 0 {
		return
	}
	deadline := time.Now().Add(eventGrace)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		all := true
		for _, w := range r.ws {
			if !w.alive() {
				continue
			}
			got := w.received()
			for k, at := range sent {
				if !at.IsZero() && got[k].IsZero() {
					all = false
					break
				}
			}
			if !all {
				break
			}
		}
		if all {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// aliveListeners counts the HTTP and WebRTC listeners still connected.
func (r *run) aliveListeners() int {
	n := 0
	for _, h := range r.http {
		h.mu.Lock()
		if h.gotFirst && h.ended.IsZero() && h.failure == "" {
			n++
		}
		h.mu.Unlock()
	}
	for _, l := range r.rtc {
		if l.alive() {
			n++
		}
	}
	return n
}

func (r *run) reportHTTP(rep *Report, s0, s1 snapshot) {
	if len(r.http) == 0 {
		return
	}
	steady := s1.at.Sub(s0.at)
	hr := &HTTPReport{Attempted: len(r.http), ExpectedBps: r.cfg.ExpectedRate}
	var connect, ttfb, rates []float64
	for i, h := range r.http {
		var from, to int64
		if s1.audio != nil {
			from, to = s0.audio[i], s1.audio[i]
		}
		res := h.result(from, to, steady)
		h.mu.Lock()
		br := h.bitrate
		h.mu.Unlock()
		if hr.ExpectedBps == 0 && br > 0 {
			hr.ExpectedBps = float64(br) * 1000 / 8
		}
		hr.ICYBlocks += res.Blocks
		switch {
		case res.Failure != "":
			hr.Failed++
			if hr.Failures == nil {
				hr.Failures = map[string]int{}
			}
			hr.Failures[res.Failure]++
		default:
			hr.Connected++
			if res.Dropped {
				hr.Dropped++
			}
			if res.DryMS > 0 {
				hr.Underruns++
				hr.MaxDryMS = max(hr.MaxDryMS, res.DryMS)
			}
			connect = append(connect, res.ConnectMS)
			ttfb = append(ttfb, res.TTFBMS)
			if steady > 0 {
				rates = append(rates, res.RateBps)
			}
		}
		if r.cfg.Detail {
			hr.Listeners = append(hr.Listeners, res)
		}
	}
	hr.SuccessRate = float64(hr.Connected) / float64(hr.Attempted)
	hr.ConnectMS, hr.TTFBMS = newDist(connect), newDist(ttfb)
	if hr.ExpectedBps > 0 {
		for _, v := range rates {
			if v < 0.95*hr.ExpectedBps {
				hr.Slow++
			}
		}
	}
	hr.RateBps = newDist(rates)
	rep.HTTP = hr
}

func (r *run) reportRTC(rep *Report, s0, s1 snapshot) {
	if len(r.rtc) == 0 {
		return
	}
	steady := s1.at.Sub(s0.at)
	wr := &RTCReport{Attempted: len(r.rtc)}
	// One packet duration for the run: the server's, as given or as the
	// first listener that saw two packets in a row read it.
	frame := r.cfg.OpusFrame
	for _, l := range r.rtc {
		if frame > 0 {
			break
		}
		frame = l.packetDuration()
	}
	var connect, first []float64
	var rmsSum float64
	for i, l := range r.rtc {
		res := l.result()
		if res.Failure != "" {
			wr.Failed++
			if wr.Failures == nil {
				wr.Failures = map[string]int{}
			}
			wr.Failures[res.Failure]++
		} else {
			wr.Connected++
			connect = append(connect, res.ConnectMS)
			first = append(first, res.FirstPacketMS)
			if s1.pkts != nil {
				res.Packets = s1.pkts[i] - s0.pkts[i]
				res.Lost = s1.lost[i] - s0.lost[i]
				if frame > 0 {
					res.Expected = int64(steady / frame)
				}
				wr.Packets += res.Packets
				wr.Expected += res.Expected
				wr.SeqLost += res.Lost
				if res.Packets < res.Expected/2 {
					res.Dropped = true
					wr.Dropped++
				}
			}
			if rms, sec := l.level(s0.at, s1.at); rms >= 0 && !s1.at.IsZero() {
				res.DecodedRMS, res.DecodedSec = rms, sec
				wr.Decoding++
				rmsSum += rms
				wr.DecodedSec += sec
			}
		}
		if r.cfg.Detail {
			wr.Listeners = append(wr.Listeners, res)
		}
	}
	wr.SuccessRate = float64(wr.Connected) / float64(wr.Attempted)
	wr.ConnectMS, wr.FirstPacketMS = newDist(connect), newDist(first)
	if wr.Expected > 0 {
		wr.LossPercent = max(0, 100*(1-float64(wr.Packets)/float64(wr.Expected)))
	}
	if wr.Decoding > 0 {
		wr.DecodedRMS = rmsSum / float64(wr.Decoding)
		wr.DecodedSec /= float64(wr.Decoding)
	}
	rep.WebRTC = wr
}

func (r *run) reportWS(rep *Report, sent []time.Time) {
	if len(r.ws) == 0 {
		return
	}
	wr := &WSReport{Attempted: len(r.ws)}
	var join, lat []float64
	last := make([]float64, len(sent))
	for i, w := range r.ws {
		res := w.result(sent)
		if res.Failure != "" {
			wr.Failed++
			if wr.Failures == nil {
				wr.Failures = map[string]int{}
			}
			wr.Failures[res.Failure]++
		} else {
			wr.Joined++
			join = append(join, res.JoinMS)
			lat = append(lat, res.LatencyMS...)
			wr.Missed += res.Missed
			got := w.received()
			for k, at := range sent {
				if !at.IsZero() && !got[k].IsZero() {
					last[k] = max(last[k], ms(got[k].Sub(at)))
				}
			}
			if i < len(r.wsAlive) && !r.wsAlive[i] {
				res.Dropped = true
				wr.Dropped++
			}
		}
		if r.cfg.Detail {
			wr.Clients = append(wr.Clients, res)
		}
	}
	wr.JoinMS, wr.EventMS = newDist(join), newDist(lat)
	for k, at := range sent {
		if !at.IsZero() {
			wr.Events++
			wr.LastClientMS = append(wr.LastClientMS, last[k])
		}
	}
	rep.WS = wr
}

func procReport(pid int, ph phases, samples []ProcSample, perr error, listeners, clients int) *ProcReport {
	p := &ProcReport{PID: pid, Samples: samples, Listeners: listeners, Clients: clients}
	if perr != nil {
		p.Error = perr.Error()
	}
	for _, s := range samples {
		p.PeakRSSKB = max(p.PeakRSSKB, s.RSSKB)
	}
	if !ph.ok {
		if p.Error == "" {
			p.Error = "the run ended before every phase was sampled"
		}
		return p
	}
	p.BaselineCPU = cpuPercent(ph.base0, ph.base1)
	p.ConnectCPU = cpuPercent(ph.base1, ph.conn1)
	p.SteadyCPU = cpuPercent(ph.steady0, ph.steady1)
	p.SessionCPU = cpuPercent(ph.base1, ph.steady1)
	p.BaselineRSSKB, p.SteadyRSSKB = ph.base1.RSSKB, ph.steady1.RSSKB
	p.Threads = ph.steady1.Threads
	if listeners > 0 {
		p.CPUMicrosPerListenS = (p.SteadyCPU - p.BaselineCPU) / 100 * 1e6 / float64(listeners)
		p.RSSKBPerListener = float64(p.SteadyRSSKB-p.BaselineRSSKB) / float64(listeners)
	}
	if clients > 0 {
		p.CPUMicrosPerClntS = (p.SteadyCPU - p.BaselineCPU) / 100 * 1e6 / float64(clients)
		p.RSSKBPerClient = float64(p.SteadyRSSKB-p.BaselineRSSKB) / float64(clients)
	}
	return p
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
