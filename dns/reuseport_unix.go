//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package dns

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

const reusePortSupported = true

// reusePort lets several sockets bind one UDP port; the kernel then hashes
// each client to one socket, and each socket has its own serving goroutine.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return fmt.Errorf("SO_REUSEPORT: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("SO_REUSEPORT: %w", serr)
	}
	return nil
}
