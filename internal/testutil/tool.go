package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// NeedTool finds an external program a test drives (ffmpeg, mpv, VLC,
// Chromium, Liquidsoap, nats-server). Without it the test skips, except in
// CI (CI=true), where .ci/run installs everything the tests use and a
// missing tool is a failure.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; .ci/run must install it", name)
		}
		t.Skipf("%s not installed", name)
	}
	return path
}
