package onair

// ICECandidate is one ICE candidate in the shape of the browser's
// RTCIceCandidateInit, so signalling can pass candidates between browsers
// and the relay without either side importing the other.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}
