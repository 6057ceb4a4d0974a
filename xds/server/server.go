package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// Server serves each node the snapshot last set for it. Create it with New, attach it to a
// gRPC server with Register, feed it with SetSnapshot and ClearSnapshot, and call Close before
// stopping the gRPC server.
type Server struct {
	log    *slog.Logger
	libLog libLogger
	auth   func(context.Context, *corev3.Node) error
	// firstRequest bounds how long a stream may stay anonymous.
	firstRequest time.Duration
	metrics      *metrics

	// cache is in non-ADS mode; see the package documentation.
	cache cache.SnapshotCache

	// root parents every stream's context; cancelling it ends them all.
	root     context.Context
	shutdown context.CancelCauseFunc

	// pushMu serializes SetSnapshot and ClearSnapshot, so a node's staged publication is never
	// interleaved with another, and guards snaps.
	pushMu sync.Mutex
	snaps  map[string]*cache.Snapshot

	registry   *registry
	onPresence func(node string)
}

// New returns a Server. It fails only if the metrics cannot be registered.
func New(opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "xds-server")
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	lib := libLogger{logger}
	root, shutdown := context.WithCancelCause(context.Background())
	return &Server{
		log:          logger,
		libLog:       lib,
		auth:         opts.Authenticate,
		firstRequest: opts.FirstRequestTimeout,
		metrics:      m,
		cache:        cache.NewSnapshotCache(false, cache.IDHash{}, lib),
		root:         root,
		shutdown:     shutdown,
		snaps:        map[string]*cache.Snapshot{},
		registry:     newRegistry(),
		onPresence:   opts.OnPresence,
	}, nil
}

// Close ends every open stream and refuses new ones; clients see Unavailable and reconnect,
// to another replica if there is one. grpc.Server.GracefulStop waits for streams to end, and
// xDS streams never end on their own, so call Close first.
func (s *Server) Close() {
	s.shutdown(errShutdown)
}
