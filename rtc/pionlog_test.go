package rtc

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestPionLogsGoThroughTheServerLogger(t *testing.T) {
	var buf bytes.Buffer
	l := pionLogs{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))}.NewLogger("ice")
	l.Debugf("noise %d", 1)
	l.Info("noise")
	l.Errorf("Failed to write packet: %s", "closed pipe")
	out := buf.String()
	if strings.Contains(out, "noise") {
		t.Fatalf("debug lines passed a warn-level logger:\n%s", out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "pion=ice") || !strings.Contains(out, "Failed to write packet: closed pipe") {
		t.Fatalf("pion's error is not a warning of the ice scope:\n%s", out)
	}
}
