package server

import (
	"context"
	"errors"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/delta/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type (
	sotwStream  = grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]
	deltaStream = grpc.BidiStreamingServer[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]
)

// Why a stream was ended from the server side; reported to the client as its status.
var (
	errShutdown  = errors.New("the control plane is shutting down")
	errWithdrawn = errors.New("the configuration of this node was withdrawn; reconnect to wait for a new one")
	errStreamEnd = errors.New("stream ended")
	errAnonymous = errors.New("stream ended before it was admitted")
)

func (s *Server) serveSotw(gs sotwStream, typeURL string) error {
	st := newStream(gs.Context(), s, protoSotw)
	ctx, end := s.begin(st)
	// Ordered mode sends an ADS stream's responses in the order the cache produced them, which
	// publish makes the dependency order.
	err := sotw.NewServer(ctx, s.cache, st, sotw.WithOrderedADS(), sotw.WithLogger(s.libLog)).StreamHandler(gs, typeURL)
	return end(ctx, err)
}

func (s *Server) serveDelta(gs deltaStream, typeURL string) error {
	st := newStream(gs.Context(), s, protoDelta)
	ctx, end := s.begin(st)
	err := delta.NewServer(ctx, s.cache, st, delta.WithLogger(s.libLog)).DeltaStreamHandler(gs, typeURL)
	return end(ctx, err)
}

// begin gives the stream a context of its own, under the server's: go-control-plane ends a
// stream only when its server's context is done or the client goes away, so a server per
// stream is what lets ClearSnapshot end one node's streams. end reports why it ended.
func (s *Server) begin(st *stream) (context.Context, func(context.Context, error) error) {
	ctx, cancel := context.WithCancelCause(s.root)
	// Set before the stream can be found through the registry, so readers see it.
	st.stop = cancel
	s.metrics.streams.WithLabelValues(st.proto).Inc()
	stopDeadline := s.anonymousDeadline(st)
	return ctx, func(ctx context.Context, err error) error {
		stopDeadline()
		cause := context.Cause(ctx)
		cancel(errStreamEnd)
		st.close()
		s.metrics.streams.WithLabelValues(st.proto).Dec()
		if err != nil || cause == nil {
			return err
		}
		if errors.Is(cause, errAnonymous) {
			return status.Error(codes.DeadlineExceeded, cause.Error())
		}
		if _, ok := status.FromError(cause); ok {
			return cause // EndStreams: the status says why
		}
		return status.Error(codes.Unavailable, cause.Error())
	}
}
