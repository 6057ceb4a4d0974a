package test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// attackerEnv carries an attacker process's orders: "target count firstSource sources", e.g.
// "127.0.0.1:5681 10000 2 40" holds 10,000 idle TCP connections to 127.0.0.1:5681 from
// 127.0.0.2 … 127.0.0.41, round robin.
const attackerEnv = "MESHGATE_TEST_ATTACKER"

// runAttacker opens the connections, reports "held N failed M" on stdout, and keeps them open
// (sending nothing) until its stdin closes. Connections the server closes stay counted as
// held: the attacker keeps their descriptors, as a real one would not bother to notice.
func runAttacker(spec string) int {
	var target string
	var count, first, sources int
	if _, err := fmt.Sscan(spec, &target, &count, &first, &sources); err != nil {
		fmt.Fprintln(os.Stderr, "attacker spec:", err)
		return 2
	}
	var conns []net.Conn
	failed := 0
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < count && time.Now().Before(deadline); i++ {
		src := net.IPv4(127, 0, byte((first+i%sources)>>8), byte((first+i%sources)&0xff))
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", target)
		if err != nil {
			failed++
			continue
		}
		conns = append(conns, c)
	}
	fmt.Printf("held %d failed %d\n", len(conns), failed)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	for _, c := range conns {
		_ = c.Close()
	}
	return 0
}

// attack starts an attacker process against target and waits until it holds its connections;
// it reports how many it opened. The process ends with the test.
func attack(t *testing.T, target string, count, firstSource, sources int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %d", attackerEnv, target, count, firstSource, sources))
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	fields := strings.Fields(line)
	require.Len(t, fields, 4, line)
	held, err := strconv.Atoi(fields[1])
	require.NoError(t, err)
	t.Logf("attacker on %s from %d addresses: %s", target, sources, strings.TrimSpace(line))
	return held
}
