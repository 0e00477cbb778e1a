//go:build race

package relay

// raceDetector is true under -race, which slows the mix and encoders
// several times: pace checks, which need a station faster than real time,
// mean nothing then.
const raceDetector = true
