package server

import (
	"context"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/delta/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// stream is one xDS stream's state and its go-control-plane callbacks. Every stream gets its
// own go-control-plane stream server, so the callbacks know their stream without an id table,
// and all of them run on that server's single goroutine: the fields need no lock.
type stream struct {
	srv   *Server
	ctx   context.Context // the gRPC stream's: peer and metadata, for Authenticate
	stop  context.CancelCauseFunc
	proto string
	node  string // set by the first request
	// admitted is set once node is, and read by the first-request deadline's timer.
	admitted atomic.Bool
	types    map[string]*track // by type URL
}

var (
	_ sotw.Callbacks  = (*stream)(nil)
	_ delta.Callbacks = (*stream)(nil)
)

func newStream(ctx context.Context, srv *Server, proto string) *stream {
	return &stream{srv: srv, ctx: ctx, proto: proto, types: map[string]*track{}}
}

// identify admits the stream's node on its first request and holds it to that node afterwards:
// the cache keys watches by the node of each request, so a stream that switched ids would be
// served another dataplane's configuration.
func (st *stream) identify(node *corev3.Node) error {
	if st.node != "" {
		if node != nil && node.GetId() != "" && node.GetId() != st.node {
			return status.Errorf(codes.PermissionDenied, "stream opened as node %q cannot switch to node %q", st.node, node.GetId())
		}
		return nil
	}
	if node.GetId() == "" {
		return status.Error(codes.InvalidArgument, "the first request of a stream must carry node.id")
	}
	if auth := st.srv.auth; auth != nil {
		if err := auth(st.ctx, node); err != nil {
			if _, ok := status.FromError(err); ok {
				return err
			}
			return status.Errorf(codes.Unauthenticated, "node %q: %v", node.GetId(), err)
		}
	}
	st.node = node.GetId()
	st.admitted.Store(true)
	if st.srv.registry.attach(st.node, st) && st.srv.onPresence != nil {
		st.srv.onPresence(st.node)
	}
	return nil
}

// close detaches the stream from its node once go-control-plane is done with it.
func (st *stream) close() {
	if st.node != "" && st.srv.registry.detach(st.node, st) && st.srv.onPresence != nil {
		st.srv.onPresence(st.node)
	}
}

func (st *stream) OnStreamRequest(_ int64, req *discoveryv3.DiscoveryRequest) error {
	if err := st.identify(req.GetNode()); err != nil {
		return err
	}
	st.sotwReply(req)
	return nil
}

func (st *stream) OnStreamResponse(_ context.Context, _ int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	st.sent(resp.GetTypeUrl(), resp.GetNonce(), resp.GetVersionInfo())
}

func (st *stream) OnStreamDeltaRequest(_ int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	if err := st.identify(req.GetNode()); err != nil {
		return err
	}
	st.deltaReply(req)
	return nil
}

func (st *stream) OnStreamDeltaResponse(_ int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	st.sent(resp.GetTypeUrl(), resp.GetNonce(), resp.GetSystemVersionInfo())
}

// Opening and closing are handled around the stream server (serve.go), where the outcome is
// known; these only satisfy the interfaces.
func (st *stream) OnStreamOpen(context.Context, int64, string) error      { return nil }
func (st *stream) OnStreamClosed(int64, *corev3.Node)                     {}
func (st *stream) OnDeltaStreamOpen(context.Context, int64, string) error { return nil }
func (st *stream) OnDeltaStreamClosed(int64, *corev3.Node)                {}
