package controlplane

import (
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/meshgate/meshgate/controlplane/connlimit"
)

// listen binds every TCP listener, each bounded by its limits, so a port already in use fails
// New before anything runs.
func (cp *ControlPlane) listen() error {
	l := cp.cfg.Limits
	m := connlimit.NewMetrics(cp.registry)
	type bind struct {
		dst             *net.Listener
		addr, what      string
		max, perAddress int
	}
	binds := []bind{
		{&cp.xdsLis, cp.cfg.XDSAddress, "xds", l.XDSMaxConnections, l.XDSMaxConnectionsPerAddress},
		{&cp.apiLis, cp.cfg.APIAddress, "api", l.APIMaxConnections, l.APIMaxConnectionsPerAddress},
		{&cp.diagLis, cp.cfg.DiagAddress, "diagnostics", l.DiagMaxConnections, 0},
	}
	if cp.exposure.apiTLS {
		binds = append(binds, bind{&cp.apiTLSLis, cp.cfg.APITLSAddress, "api-tls", l.APIMaxConnections, l.APIMaxConnectionsPerAddress})
	}
	if cp.mode == ModeGlobal {
		// Zones are few; the xDS limits are generous for them and bound a flood all the same.
		binds = append(binds, bind{&cp.kdsLis, cp.cfg.MultiZone.kdsAddress(), "kds", l.XDSMaxConnections, l.XDSMaxConnectionsPerAddress})
	}
	for _, b := range binds {
		raw, err := net.Listen("tcp", b.addr)
		if err != nil {
			return fmt.Errorf("%s listener on %s: %w", b.what, b.addr, err)
		}
		*b.dst = connlimit.Wrap(raw, connlimit.Options{Name: b.what, Max: b.max, PerAddress: b.perAddress, Metrics: m})
	}
	return nil
}

// xdsCredentials is TLS with the serving certificate, unless the operator asked for plain text.
func (cp *ControlPlane) xdsCredentials() grpc.ServerOption {
	if cp.cfg.TLS.XDSInsecure {
		cp.log.Warn("xDS IS PLAIN TEXT (--xds-insecure): dataplane tokens and private keys cross the network in clear; " +
			"use only on a network you trust")
		return grpc.EmptyServerOption{}
	}
	return grpc.Creds(credentials.NewTLS(cp.serving.ServerConfig()))
}

// ControlPlaneCA is the PEM of what clients should trust to verify the control plane's
// certificate (`meshgate ca control-plane`, `meshgate bootstrap`).
func (cp *ControlPlane) ControlPlaneCA() []byte { return cp.serving.CAPEM() }
