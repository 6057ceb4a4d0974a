package controlplane

import (
	"fmt"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Limits bound what any client, authenticated or not, can hold of the process. The defaults
// keep every listener well inside the open-file limit (which the Go runtime raises to the hard
// limit at start), so one server's clients can never take the descriptors another needs.
type Limits struct {
	// API (plain and TLS listeners each): connections in total and per client address, and
	// how long a client may take to send headers, a whole request, or sit idle between
	// requests; how long a response may take; the largest header block.
	APIMaxConnections, APIMaxConnectionsPerAddress int
	APIReadHeaderTimeout, APIReadTimeout           time.Duration
	APIWriteTimeout, APIIdleTimeout                time.Duration
	APIMaxHeaderBytes                              int

	// xDS: connections in total and per client address; how long a new connection may take
	// to finish its TLS and HTTP/2 handshake; how long a connection with no stream is kept;
	// streams per connection; how long a new stream may take to be admitted (its first request
	// with a valid token).
	XDSMaxConnections, XDSMaxConnectionsPerAddress int
	XDSHandshakeTimeout, XDSIdleConnectionTimeout  time.Duration
	XDSMaxStreamsPerConnection                     uint32
	XDSFirstRequestTimeout                         time.Duration

	// Diagnostics: connections in total (scrapers and probes only).
	DiagMaxConnections int
}

// fileReserve is what the process needs besides its listeners' connections: the store, DNS
// sockets and TCP clients, watched files, upstream resolvers, logs.
const fileReserve = 1024

// DefaultLimits fit a 20,000-descriptor process serving several thousand dataplanes: xDS
// 12,000 connections (a dataplane holds one), each API listener 1,024, diagnostics 64.
func DefaultLimits() Limits {
	return Limits{
		APIMaxConnections:           1024,
		APIMaxConnectionsPerAddress: 64,
		APIReadHeaderTimeout:        10 * time.Second,
		APIReadTimeout:              30 * time.Second,
		APIWriteTimeout:             60 * time.Second,
		APIIdleTimeout:              60 * time.Second,
		APIMaxHeaderBytes:           64 << 10,
		XDSMaxConnections:           12000,
		XDSMaxConnectionsPerAddress: 256,
		XDSHandshakeTimeout:         10 * time.Second,
		XDSIdleConnectionTimeout:    2 * time.Minute,
		XDSMaxStreamsPerConnection:  16,
		XDSFirstRequestTimeout:      10 * time.Second,
		DiagMaxConnections:          64,
	}
}

func (l Limits) validate() error {
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"--api-max-connections", int64(l.APIMaxConnections)},
		{"--api-max-connections-per-address", int64(l.APIMaxConnectionsPerAddress)},
		{"--api-read-header-timeout", int64(l.APIReadHeaderTimeout)},
		{"--api-read-timeout", int64(l.APIReadTimeout)},
		{"--api-write-timeout", int64(l.APIWriteTimeout)},
		{"--api-idle-timeout", int64(l.APIIdleTimeout)},
		{"--api-max-header-bytes", int64(l.APIMaxHeaderBytes)},
		{"--xds-max-connections", int64(l.XDSMaxConnections)},
		{"--xds-max-connections-per-address", int64(l.XDSMaxConnectionsPerAddress)},
		{"--xds-handshake-timeout", int64(l.XDSHandshakeTimeout)},
		{"--xds-idle-connection-timeout", int64(l.XDSIdleConnectionTimeout)},
		{"--xds-max-streams-per-connection", int64(l.XDSMaxStreamsPerConnection)},
		{"--xds-first-request-timeout", int64(l.XDSFirstRequestTimeout)},
	} {
		if c.v <= 0 {
			return fmt.Errorf("%s must be positive: every server is bounded", c.name)
		}
	}
	return nil
}

// apiServer is an http.Server with the API limits.
func (l Limits) apiServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.APIReadHeaderTimeout,
		ReadTimeout:       l.APIReadTimeout,
		WriteTimeout:      l.APIWriteTimeout,
		IdleTimeout:       l.APIIdleTimeout,
		MaxHeaderBytes:    l.APIMaxHeaderBytes,
	}
}

// grpcOptions are the xDS server's limits. Keepalive pings find dead peers; a connection with
// no stream for the idle timeout is closed (Envoy always holds its ADS stream, so only clients
// that are not dataplanes sit idle).
func (l Limits) grpcOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		// A dataplane holds one connection for as long as it runs, and sends only small
		// requests (subscriptions and ACKs): a connection's write buffer goes back to a shared
		// pool between flushes, and its read buffer is 8 KiB instead of 32, so that an idle
		// dataplane costs what its configuration costs (issue 18: <= 100 KB each).
		grpc.SharedWriteBuffer(true),
		grpc.ReadBufferSize(8 << 10),
		grpc.ConnectionTimeout(l.XDSHandshakeTimeout),
		grpc.MaxConcurrentStreams(l.XDSMaxStreamsPerConnection),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time: 30 * time.Second, Timeout: 10 * time.Second, MaxConnectionIdle: l.XDSIdleConnectionTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
}
