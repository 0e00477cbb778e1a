package signalling

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchClientsEnv) != "" {
		// This binary was started by a broadcast benchmark to hold its
		// client sockets in a process of their own.
		os.Exit(runBenchClients())
	}
	goleak.VerifyTestMain(m)
}
