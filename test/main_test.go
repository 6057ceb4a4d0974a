package test

import (
	"os"
	"testing"
)

// TestMain lets a test re-run this binary as a helper process (an attacker holding thousands
// of connections needs descriptors of its own, beyond the test's limit) before any test runs.
func TestMain(m *testing.M) {
	if spec := os.Getenv(attackerEnv); spec != "" {
		os.Exit(runAttacker(spec))
	}
	os.Exit(m.Run())
}
