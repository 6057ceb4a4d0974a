package server

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test stops its streams and servers; leftover goroutines fail the package.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
