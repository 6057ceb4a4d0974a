package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// EndStreams ends every open stream that reject refuses: what admitted it no longer holds (its
// token was revoked, its mesh deleted). reject gets what Authenticate got, the stream's context
// (peer, metadata) and its node id, and returns why the stream must end, or nil to keep it; a
// gRPC status error is sent to the client as is, any other error as Unauthenticated. reject
// runs outside the server's locks, once per stream. It returns how many streams were ended.
//
// Only the streams are ended: the node's snapshot stays, for its other streams and for a client
// that reconnects with credentials Authenticate accepts.
func (s *Server) EndStreams(reject func(ctx context.Context, node string) error) int {
	ended := 0
	for _, ref := range s.registry.streams() {
		err := reject(ref.st.ctx, ref.node)
		if err == nil {
			continue
		}
		if _, ok := status.FromError(err); !ok {
			err = status.Errorf(codes.Unauthenticated, "node %q: %v", ref.node, err)
		}
		s.log.Info("ending a stream that is no longer authorized", "node", ref.node, "protocol", ref.st.proto, "reason", err)
		ref.st.stop(err)
		ended++
	}
	return ended
}
