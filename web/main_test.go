package web

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a station
// clock, a listener, a connection.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
