package relay

// recent keeps the last seconds of a station's mix and the titles in force
// over them, so that an output that starts (the first listener of a
// mount) can hand its listener a burst at once. It exists only while the
// station renders: an idle station holds no PCM.
type recent struct {
	pcm    []float32 // circular, stereo frames
	frames int64     // capacity in frames
	end    int64     // stream frame after the newest held
	held   int64     // frames held, up to frames
	titles []titleAt // oldest first; titles[0] is in force at the oldest frame
}

// titleAt is a title that is in force from a frame on.
type titleAt struct {
	at    int64
	title *title
}

func newRecent(frames int64) *recent {
	return &recent{pcm: make([]float32, frames*2), frames: frames}
}

// push appends a block that starts at frame at (the frame after the last).
func (r *recent) push(block []float32, at int64) {
	if r.held > 0 && at != r.end {
		r.held = 0 // a gap: what is held no longer leads up to now
	}
	n := int64(len(block) / 2)
	if n > r.frames {
		block = block[(n-r.frames)*2:]
		at += n - r.frames
		n = r.frames
	}
	off := (at % r.frames) * 2
	c := copy(r.pcm[off:], block)
	copy(r.pcm, block[c:])
	r.end = at + n
	r.held = min(r.held+n, r.frames)
	r.prune()
}

// setTitle records t as in force from frame at on.
func (r *recent) setTitle(at int64, t *title) {
	if k := len(r.titles); k > 0 && r.titles[k-1].at == at {
		r.titles[k-1].title = t
		return
	}
	r.titles = append(r.titles, titleAt{at: at, title: t})
	r.prune()
}

// prune forgets titles that ended before the oldest frame held.
func (r *recent) prune() {
	start := r.end - r.held
	i := 0
	for i+1 < len(r.titles) && r.titles[i+1].at <= start {
		i++
	}
	if i > 0 {
		r.titles = append(r.titles[:0], r.titles[i:]...)
	}
}

// replay hands every held frame, from at most from on, to pcm in stream
// order, with each title before the audio it describes.
func (r *recent) replay(from int64, title func(*title), pcm func(block []float32, at int64)) {
	at := max(r.end-r.held, from)
	ti := 0
	for ti+1 < len(r.titles) && r.titles[ti+1].at <= at {
		ti++
	}
	if len(r.titles) > 0 {
		title(r.titles[ti].title)
	}
	for at < r.end {
		end := r.end
		if ti+1 < len(r.titles) {
			end = min(end, r.titles[ti+1].at)
		}
		for at < end {
			off := at % r.frames
			n := min(end-at, r.frames-off)
			pcm(r.pcm[off*2:(off+n)*2], at)
			at += n
		}
		if ti+1 < len(r.titles) && at == r.titles[ti+1].at {
			ti++
			title(r.titles[ti].title)
		}
	}
}
