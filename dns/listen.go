package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// listen binds n UDP sockets and one TCP listener on the same address. With
// port 0 the kernel picks the UDP port and TCP must take the same one, which
// another process may hold, so a few ports are tried.
func listen(ctx context.Context, addr string, n int) ([]net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("address %q: %w", addr, err)
	}
	attempts := 1
	if port == "0" {
		attempts = 10
	}
	var errs []error
	for range attempts {
		pcs, ln, err := listenOnce(ctx, host, port, n)
		if err == nil {
			return pcs, ln, nil
		}
		errs = append(errs, err)
	}
	return nil, nil, errors.Join(errs...)
}

func listenOnce(ctx context.Context, host, port string, n int) (pcs []net.PacketConn, ln net.Listener, err error) {
	lc := net.ListenConfig{}
	if n > 1 {
		lc.Control = reusePort
	}
	defer func() {
		if err != nil {
			for _, pc := range pcs {
				_ = pc.Close()
			}
		}
	}()
	first, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, nil, fmt.Errorf("listening on udp %s: %w", net.JoinHostPort(host, port), err)
	}
	pcs = append(pcs, first)
	bound := net.JoinHostPort(host, strconv.Itoa(first.LocalAddr().(*net.UDPAddr).Port))
	for len(pcs) < n {
		pc, err := lc.ListenPacket(ctx, "udp", bound)
		if err != nil {
			return pcs, nil, fmt.Errorf("listening on udp %s (socket %d): %w", bound, len(pcs)+1, err)
		}
		pcs = append(pcs, pc)
	}
	ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", bound)
	if err != nil {
		return pcs, nil, fmt.Errorf("listening on tcp %s: %w", bound, err)
	}
	return pcs, ln, nil
}
