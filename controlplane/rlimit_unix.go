//go:build unix

package controlplane

import (
	"log/slog"
	"syscall"
)

// raiseFileLimit raises the open-file soft limit to the hard limit (the Go runtime does this
// too since 1.19; doing it here makes it explicit and logged) and warns when the listeners'
// connection limits together could take more descriptors than the process has.
func raiseFileLimit(l Limits, tlsAPI bool, log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open-file limit", "error", err)
		return
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = raised.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			log.Warn("cannot raise the open-file limit", "soft", lim.Cur, "hard", lim.Max, "error", err)
		} else {
			lim = raised
		}
	}
	need := uint64(l.XDSMaxConnections + l.APIMaxConnections + l.DiagMaxConnections + fileReserve)
	if tlsAPI {
		need += uint64(l.APIMaxConnections)
	}
	if need > lim.Cur {
		log.Warn("connection limits exceed the open-file limit: a flood of connections could exhaust it",
			"openFileLimit", lim.Cur, "connectionLimits", need-fileReserve, "reserve", fileReserve,
			"fix", "lower --xds-max-connections / --api-max-connections, or raise the hard limit (ulimit -Hn)")
		return
	}
	log.Debug("open-file limit", "limit", lim.Cur, "connectionLimits", need-fileReserve)
}
