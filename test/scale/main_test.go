// Package scale is the scale benchmark users can run (`make bench-scale`): it starts the real
// `meshgate run` as a child process, loads a scenario through the HTTP API, and opens one real
// ADS stream per dataplane over TCP from a separate process (this test binary, re-executed) that
// subscribes and ACKs the way Envoy does. See scale_bench_test.go for what is measured.
package scale

import (
	"fmt"
	"os"
	"testing"
)

// loadEnv switches a re-executed test binary into the load process: it reads its orders from
// stdin and reports on stdout (see loadgen_test.go). A separate process keeps the load's CPU
// and memory out of the measuring process, and its descriptors out of the test's.
const loadEnv = "MESHGATE_SCALE_LOADGEN"

func TestMain(m *testing.M) {
	if os.Getenv(loadEnv) == "1" {
		os.Exit(runLoad(os.Stdin, os.Stdout))
	}
	code := m.Run()
	if err := cleanupBinary(); err != nil {
		fmt.Fprintln(os.Stderr, "removing the built meshgate:", err)
	}
	os.Exit(code)
}
