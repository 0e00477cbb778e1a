package control

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (relay clocks, uploads) must be gone when
// the tests end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
