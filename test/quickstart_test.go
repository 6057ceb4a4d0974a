package test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// buildBinary builds bin/meshgate once per test run into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "meshgate")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/meshgate")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

var runningLine = regexp.MustCompile(`msg="meshgate running" xds=(\S+) api=(\S+) diagnostics=(\S+)`)

// quickstartCommands are the lines of the README block that follows the `<!-- quickstart -->`
// marker: what a new user types in a second terminal while `make run` serves.
func quickstartCommands(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(raw), "<!-- quickstart -->")
	require.True(t, ok, "README has no <!-- quickstart --> block")
	_, block, ok := strings.Cut(after, "```sh\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		// The test puts the binary on PATH itself; every other line is a command to run.
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "export ") {
			cmds = append(cmds, line)
		}
	}
	require.NotEmpty(t, cmds)
	return cmds
}

// TestReadmeQuickstart starts the real binary as `make run` does (on free ports) and runs the
// README's quickstart commands against it.
func TestReadmeQuickstart(t *testing.T) {
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "run", "--data-dir", t.TempDir(), "--resources", "../examples/gateway",
		"--xds-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--diag-address", "127.0.0.1:0", "--dns-address", "127.0.0.1:0", "--dns-forward=false")
	stderr, err := srv.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	})
	var xds, apiAddr, diag string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := runningLine.FindStringSubmatch(sc.Text()); m != nil {
			xds, apiAddr, diag = m[1], m[2], m[3]
			break
		}
	}
	require.NotEmpty(t, apiAddr, "server never logged its addresses")
	go func() {
		for sc.Scan() {
		}
	}()
	require.Eventually(t, func() bool {
		out, err := exec.Command("curl", "-sf", "http://"+diag+"/ready").Output()
		return err == nil && strings.Contains(string(out), "ready")
	}, 10*time.Second, 50*time.Millisecond)

	replacer := strings.NewReplacer("localhost:5681", apiAddr, "localhost:5680", diag, "127.0.0.1:5678", xds)
	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "MESHGATE_API_ADDRESS=http://"+apiAddr)
	for _, line := range quickstartCommands(t) {
		line = replacer.Replace(line)
		cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", line)
		cmd.Dir = ".."
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s\n%s", line, out)
		require.NotEmpty(t, strings.TrimSpace(string(out)), line)
	}
}
