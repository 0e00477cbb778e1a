// Package live owns a station's live inputs: source clients that speak
// Icecast's source protocol (butt, Mixxx, ffmpeg, Liquidsoap) on the
// stream's own URL, and Icecast's metadata call they make to name what
// they play. A source's audio is decoded here (MP3, Ogg Opus, Ogg Vorbis)
// and handed to the relay, which mixes it in place of the playlist.
//
// Every source is one connection and one goroutine, the HTTP server's:
// its memory is a page or a frame buffer, whatever it sends, and it is
// dropped, with a log line saying why, when it sends something else than
// audio, changes format, or stops sending.
package live
