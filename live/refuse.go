package live

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Refuse answers a source client that must go elsewhere with code and msg,
// msg also as the status line's reason phrase: source clients show the
// status line (ffmpeg logs "HTTP error 403 <reason>", libshout clients the
// code and reason) and seldom the body. net/http writes only the standard
// reason, so the answer is written on the taken-over connection; where
// that cannot be done (HTTP/2), msg goes in the body alone.
func Refuse(w http.ResponseWriter, code int, msg string) {
	msg = strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII || unicode.IsControl(r) {
			return -1 // a reason phrase is one line of visible ASCII
		}
		return r
	}, msg)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		plain(w, code, msg)
		return
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetWriteDeadline(time.Now().Add(DefaultReadTimeout))
	body := msg + "\n"
	_, _ = io.WriteString(conn, fmt.Sprintf("HTTP/1.0 %d %s\r\nServer: onair\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n%s", code, msg, len(body), body))
}
