package kds

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	serviceName = "meshgate.kds.v1.KDS"
	// MaxMessageSize bounds every KDS message both ways.
	MaxMessageSize = 16 << 20
)

// kdsService is what the hand-made service description dispatches to (no protoc here).
type kdsService interface {
	globalToZone(grpc.ServerStream) error
	zoneToGlobal(grpc.ServerStream) error
	signIntermediate(ctx context.Context, req *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error)
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*kdsService)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "SignIntermediate",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.BytesValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(kdsService).signIntermediate(ctx, req.(*wrapperspb.BytesValue))
			}
			if interceptor == nil {
				return call(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + serviceName + "/SignIntermediate"}, call)
		},
	}},
	Streams: []grpc.StreamDesc{
		{StreamName: "GlobalToZoneSync", ServerStreams: true, ClientStreams: true,
			Handler: func(srv any, s grpc.ServerStream) error { return srv.(kdsService).globalToZone(s) }},
		{StreamName: "ZoneToGlobalSync", ServerStreams: true, ClientStreams: true,
			Handler: func(srv any, s grpc.ServerStream) error { return srv.(kdsService).zoneToGlobal(s) }},
	},
}

const (
	methodGlobalToZone = "/" + serviceName + "/GlobalToZoneSync"
	methodZoneToGlobal = "/" + serviceName + "/ZoneToGlobalSync"
	methodSign         = "/" + serviceName + "/SignIntermediate"
)

// signRequest and signResponse are the JSON inside SignIntermediate's BytesValues.
type signRequest struct {
	Mesh    string `json:"mesh"`
	Backend string `json:"backend"`
	CSRPEM  []byte `json:"csrPEM"`
}

type signResponse struct {
	ChainPEM []byte `json:"chainPEM"`
}

// GRPCServerOptions are the keepalive and message-size settings a server hosting KDS should use.
// Serve TLS through grpc.Creds(credentials.NewTLS(cfg)) on a plain listener, not tls.Listen: gRPC
// clients require the h2 ALPN that only the credentials negotiate.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
}

func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
	}
	return ""
}

func marshalJSON(v any) (*wrapperspb.BytesValue, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return wrapperspb.Bytes(b), nil
}

func unmarshalJSON(b *wrapperspb.BytesValue, v any) error {
	if err := json.Unmarshal(b.GetValue(), v); err != nil {
		return fmt.Errorf("decoding %T: %w", v, err)
	}
	return nil
}
