//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package dns

import "syscall"

// Without SO_REUSEPORT one UDP socket serves every query.
const reusePortSupported = false

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
