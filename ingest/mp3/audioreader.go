package mp3

// AudioReader reads the audio frames of a Scanner as one byte stream: the
// frames exactly as they are in the file, without tags, junk or the Xing
// frame. A decoder reading it sees only clean frames, so it never plays the
// Xing frame as silence nor trips on junk it cannot resync after.
type AudioReader struct {
	s    *Scanner
	rest []byte // unread part of the current frame, in s's buffer
	err  error
}

// NewAudioReader returns a reader of s's audio frames.
func NewAudioReader(s *Scanner) *AudioReader {
	return &AudioReader{s: s}
}

// Read reads frame bytes. It returns io.EOF at the end of the audio and the
// Scanner's error if it fails.
func (a *AudioReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(a.rest) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		f, err := a.s.Next()
		if err != nil {
			a.err = err
			return 0, err
		}
		a.rest = f.Data
	}
	n := copy(p, a.rest)
	a.rest = a.rest[n:]
	return n, nil
}

// Reset makes a read s from where it is now, so one AudioReader can serve
// track after track.
func (a *AudioReader) Reset(s *Scanner) {
	*a = AudioReader{s: s}
}
