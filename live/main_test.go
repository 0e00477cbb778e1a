package live

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: a source's
// watcher, a connection Close did not end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
