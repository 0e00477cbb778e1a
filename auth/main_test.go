package auth

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/onairfm/onair/store"
)

// The real store is what cmd wires in; keep it a Store.
var _ Store = (*store.DB)(nil)

// TestMain fails the run if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
