package server

import (
	"context"
	"log/slog"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Logger receives NACK warnings and go-control-plane's own messages; nil means slog.Default().
	Logger *slog.Logger

	// Registerer receives the server's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer

	// Authenticate vets the node of a stream on its first request, with the stream's context
	// (peer, metadata). An error ends the stream: a gRPC status error is returned as is, any
	// other error as Unauthenticated. Nil admits every node.
	Authenticate func(ctx context.Context, node *corev3.Node) error

	// FirstRequestTimeout is how long a new stream may take to send its first request and be
	// admitted; a stream still anonymous then is ended, so clients that open streams and say
	// nothing cannot pile them up. Zero means no limit.
	FirstRequestTimeout time.Duration

	// OnPresence is told the node id whenever a node gains its first open stream or loses its
	// last one, after the change; call Connected for the state now. It is how the control
	// plane renders only the dataplanes that are connected. It must not block: it runs on the
	// stream's goroutine.
	OnPresence func(node string)
}
