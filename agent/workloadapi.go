package agent

import (
	"context"
	"crypto/x509"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// workloadHeader is the metadata every Workload API call must carry (SPIFFE Workload Endpoint
// spec, "Transport"): it keeps a browser or a proxy tricked into a request from reaching it.
const workloadHeader = "workload.spiffe.io"

// workloadAPI serves SpiffeWorkloadAPI from the hub: X.509 SVIDs and bundles, streamed.
type workloadAPI struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	hub *hub
}

// newWorkloadServer is the gRPC server of the Workload API, with the header check on every
// method.
func newWorkloadServer(h *hub) *grpc.Server {
	s := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			if err := checkHeader(ctx); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
			if err := checkHeader(ss.Context()); err != nil {
				return err
			}
			return next(srv, ss)
		}),
	)
	workload.RegisterSpiffeWorkloadAPIServer(s, &workloadAPI{hub: h})
	return s
}

func checkHeader(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(workloadHeader); len(v) != 1 || v[0] != "true" {
		return status.Error(codes.InvalidArgument, "security header missing from request: send gRPC metadata \"workload.spiffe.io: true\"")
	}
	return nil
}

// FetchX509SVID streams the dataplane's SVID, with its own bundle and the other meshes' as
// federated bundles, and again whenever either changes.
func (w *workloadAPI) FetchX509SVID(_ *workload.X509SVIDRequest, stream grpc.ServerStreamingServer[workload.X509SVIDResponse]) error {
	return w.hub.watch(stream.Context(), func(id *Identity) error {
		key, err := x509.MarshalPKCS8PrivateKey(id.SVID.PrivateKey)
		if err != nil {
			return status.Errorf(codes.Internal, "SVID private key: %v", err)
		}
		resp := &workload.X509SVIDResponse{
			Svids: []*workload.X509SVID{{
				SpiffeId:    id.SVID.ID.String(),
				X509Svid:    concatDER(id.SVID.Certificates),
				X509SvidKey: key,
				Bundle:      concatDER(id.Bundle.X509Authorities()),
			}},
			FederatedBundles: map[string][]byte{},
		}
		for _, b := range id.Federated {
			resp.FederatedBundles[b.TrustDomain().IDString()] = concatDER(b.X509Authorities())
		}
		return stream.Send(resp)
	})
}

// FetchX509Bundles streams every bundle, the dataplane's own mesh's and the others', and again
// whenever one changes (not on an SVID renewal alone).
func (w *workloadAPI) FetchX509Bundles(_ *workload.X509BundlesRequest, stream grpc.ServerStreamingServer[workload.X509BundlesResponse]) error {
	var last map[string][]byte
	return w.hub.watch(stream.Context(), func(id *Identity) error {
		bundles := map[string][]byte{}
		for _, b := range id.bundles() {
			bundles[b.TrustDomain().IDString()] = concatDER(b.X509Authorities())
		}
		if sameBundles(last, bundles) {
			return nil
		}
		last = bundles
		return stream.Send(&workload.X509BundlesResponse{Bundles: bundles})
	})
}

func sameBundles(a, b map[string][]byte) bool {
	if a == nil || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if string(b[k]) != string(v) {
			return false
		}
	}
	return true
}

var errNoJWT = status.Error(codes.Unimplemented,
	"meshgate agent serves X.509 SVIDs only: meshgate issues no JWT-SVIDs; use FetchX509SVID")

func (w *workloadAPI) FetchJWTSVID(context.Context, *workload.JWTSVIDRequest) (*workload.JWTSVIDResponse, error) {
	return nil, errNoJWT
}

func (w *workloadAPI) FetchJWTBundles(*workload.JWTBundlesRequest, grpc.ServerStreamingServer[workload.JWTBundlesResponse]) error {
	return errNoJWT
}

func (w *workloadAPI) ValidateJWTSVID(context.Context, *workload.ValidateJWTSVIDRequest) (*workload.ValidateJWTSVIDResponse, error) {
	return nil, errNoJWT
}
