package signalling

import (
	"testing"
	"time"

	"github.com/onairfm/onair/internal/testutil"
)

// TestIdleSocketHoldsNoWriter: a socket's writer goroutine runs only while
// something waits to be written, and comes back for the next message.
func TestIdleSocketHoldsNoWriter(t *testing.T) {
	env := newEnv(t, nil)
	c := env.dial(t, nil)
	writing := func() bool {
		env.hub.mu.Lock()
		defer env.hub.mu.Unlock()
		for sc := range env.hub.conns {
			sc.qmu.Lock()
			w := sc.writing
			sc.qmu.Unlock()
			if w {
				return true
			}
		}
		return false
	}
	for i, ref := range []string{"first", "second", "third"} {
		c.roundTrip(ref)
		testutil.Eventually(t, 10*time.Second, "the writer gone after reply "+ref, func() bool { return !writing() })
		if n := env.hub.Connections(); n != 1 {
			t.Fatalf("after reply %d: %d connections, want 1", i, n)
		}
	}
}
