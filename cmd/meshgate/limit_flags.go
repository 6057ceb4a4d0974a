package main

import (
	"github.com/spf13/pflag"

	"github.com/meshgate/meshgate/controlplane"
)

// limitFlags are the bounds on what clients can hold of `meshgate run`; every one has a default
// that is safe on the open internet and roomy on a laptop.
func limitFlags(f *pflag.FlagSet, l *controlplane.Limits) {
	f.IntVar(&l.APIMaxConnections, "api-max-connections", l.APIMaxConnections, "open connections per API listener (plain and HTTPS each)")
	f.IntVar(&l.APIMaxConnectionsPerAddress, "api-max-connections-per-address", l.APIMaxConnectionsPerAddress, "open API connections from one client IP address")
	f.DurationVar(&l.APIReadHeaderTimeout, "api-read-header-timeout", l.APIReadHeaderTimeout, "time an API client has to send its request headers (and finish the TLS handshake)")
	f.DurationVar(&l.APIReadTimeout, "api-read-timeout", l.APIReadTimeout, "time an API client has to send a whole request")
	f.DurationVar(&l.APIWriteTimeout, "api-write-timeout", l.APIWriteTimeout, "time an API response may take")
	f.DurationVar(&l.APIIdleTimeout, "api-idle-timeout", l.APIIdleTimeout, "how long an idle keep-alive API connection is kept")
	f.IntVar(&l.APIMaxHeaderBytes, "api-max-header-bytes", l.APIMaxHeaderBytes, "largest API request header block")
	f.IntVar(&l.XDSMaxConnections, "xds-max-connections", l.XDSMaxConnections, "open xDS connections (one per dataplane)")
	f.IntVar(&l.XDSMaxConnectionsPerAddress, "xds-max-connections-per-address", l.XDSMaxConnectionsPerAddress, "open xDS connections from one client IP address")
	f.DurationVar(&l.XDSHandshakeTimeout, "xds-handshake-timeout", l.XDSHandshakeTimeout, "time a new xDS connection has to finish its TLS and HTTP/2 handshake")
	f.DurationVar(&l.XDSIdleConnectionTimeout, "xds-idle-connection-timeout", l.XDSIdleConnectionTimeout, "how long an xDS connection without a stream is kept")
	f.Uint32Var(&l.XDSMaxStreamsPerConnection, "xds-max-streams-per-connection", l.XDSMaxStreamsPerConnection, "concurrent xDS streams on one connection")
	f.DurationVar(&l.XDSFirstRequestTimeout, "xds-first-request-timeout", l.XDSFirstRequestTimeout, "time a new xDS stream has to send its first request with a valid dataplane token")
}
