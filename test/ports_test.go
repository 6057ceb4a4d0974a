package test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// freePort is a loopback port free a moment ago, for a server that must keep its address
// across a restart (port 0 would give it another).
func freePort(t *testing.T) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return uint32(l.Addr().(*net.TCPAddr).Port)
}
