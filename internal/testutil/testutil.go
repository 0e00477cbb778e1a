// Package testutil holds the helpers shared by onair's tests: waiting for a
// condition with a deadline instead of sleeping, finding the external tools
// a test drives, and a clock set by hand.
package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds, failing t with what after within.
// On a loaded machine a deadline generous enough for the slowest run costs
// nothing on the fast ones: the poll returns as soon as cond holds.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(wait) // polling a condition, not waiting for a goroutine blindly
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}
