package stats

import "strings"

// agentFamilies maps a User-Agent to the client family kept with a
// session. Order matters: Edge and Opera say "Chrome" too, Chrome says
// "Safari", and players that embed libavformat ("Lavf") are ffmpeg.
var agentFamilies = []struct{ token, family string }{
	{"edg/", "Edge"},
	{"opr/", "Opera"},
	{"firefox/", "Firefox"},
	{"chrome/", "Chrome"},
	{"chromium/", "Chrome"},
	{"safari/", "Safari"},
	{"vlc/", "VLC"},
	{"libvlc", "VLC"},
	{"mpv", "mpv"},
	{"lavf/", "ffmpeg"},
	{"ffmpeg", "ffmpeg"},
	{"curl/", "curl"},
	{"winamp", "Winamp"},
	{"foobar2000", "foobar2000"},
	{"itunes", "iTunes"},
}

// Family returns the client family of a User-Agent ("Firefox", "VLC",
// "mpv", ...), "other" when it is none known. Only the family is stored:
// the full string can single a listener out.
func Family(userAgent string) string {
	ua := strings.ToLower(userAgent)
	for _, f := range agentFamilies {
		if strings.Contains(ua, f.token) {
			return f.family
		}
	}
	return "other"
}
