package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/tokens"
)

// How xDS streams are authenticated (Config.XDSAuth, `run --xds-auth`).
const (
	// XDSAuthToken requires every stream to carry its dataplane's token. The default.
	XDSAuthToken = "token"
	// XDSAuthNone admits any client as any dataplane: for local experiments only.
	XDSAuthNone = "none"
)

// xdsAuthenticator returns the ADS server's Authenticate for the configured mode; nil admits
// everyone.
func (cp *ControlPlane) xdsAuthenticator() (func(context.Context, *corev3.Node) error, error) {
	if cp.mode == ModeGlobal {
		return globalRefusesXDS, nil
	}
	switch cp.cfg.XDSAuth {
	case "", XDSAuthToken:
	case XDSAuthNone:
		cp.log.Warn("xDS AUTHENTICATION IS OFF (--xds-auth none): any client that reaches the xDS port " +
			"can connect as any dataplane and receive its configuration and identity; use only for local experiments")
		return nil, nil
	default:
		return nil, fmt.Errorf("xDS auth mode %q: want %q or %q", cp.cfg.XDSAuth, XDSAuthToken, XDSAuthNone)
	}
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshgate_xds_auth_total",
		Help: "xDS stream authentications by result: ok, or why the stream was refused.",
	}, []string{"result"})
	if err := cp.registry.Register(results); err != nil {
		return nil, fmt.Errorf("registering xDS auth metrics: %w", err)
	}
	a := &tokenAuth{verify: cp.tokens.Verify, ingress: cp.verifyIngressToken, log: cp.log, results: results}
	if cp.kube != nil {
		a.verify = cp.kube.auth(cp.store, cp.tokens.Verify).verify
	}
	return a.authenticate, nil
}

// tokenAuth admits an xDS stream only with a token of the dataplane its node id names.
type tokenAuth struct {
	verify func(ctx context.Context, token, mesh, name string) (tokens.Info, error)
	// ingress checks the token of a ZoneIngress node (`.<name>`).
	ingress func(ctx context.Context, token, name string) error
	log     *slog.Logger
	results *prometheus.CounterVec
}

// authenticate runs on a stream's first request, before anything is sent on it.
func (a *tokenAuth) authenticate(ctx context.Context, node *corev3.Node) error {
	id := node.GetId()
	err := a.check(ctx, id)
	result := "ok"
	if err != nil {
		var st error
		result, st = refusal(id, err)
		attrs := []any{"node", id, "result", result, "error", err}
		if p, ok := peer.FromContext(ctx); ok {
			attrs = append(attrs, "peer", p.Addr.String())
		}
		if result == "error" {
			a.log.Error("cannot authenticate xDS stream", attrs...)
		} else {
			a.log.Warn("xDS stream refused", attrs...)
		}
		err = st
	} else {
		a.log.Debug("xDS stream authenticated", "node", id)
	}
	a.results.WithLabelValues(result).Inc()
	return err
}

func (a *tokenAuth) check(ctx context.Context, nodeID string) error {
	token, err := bearerToken(ctx)
	if err != nil {
		return err
	}
	if mesh, name, _ := api.SplitNodeID(nodeID); mesh == "" && name != "" && a.ingress != nil {
		return a.ingress(ctx, token, name)
	}
	mesh, name, err := splitNode(nodeID)
	if err != nil {
		return err
	}
	_, err = a.verify(ctx, token, mesh, name)
	return err
}

// errBadNode: a node id that does not name a dataplane.
var errBadNode = errors.New("node id is not <mesh>.<name>")

// splitNode reads a node id with api.SplitNodeID (the first dot separates): token mesh names
// cannot contain dots, so a token's dataplane has exactly one node id.
func splitNode(id string) (mesh, name string, err error) {
	mesh, name, ok := api.SplitNodeID(id)
	if !ok || mesh == "" || name == "" {
		return "", "", fmt.Errorf("%w: %q", errBadNode, id)
	}
	return mesh, name, nil
}

// bearerToken reads the token Envoy sends from its bootstrap's initial_metadata.
func bearerToken(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	switch len(values) {
	case 0:
		return "", tokens.ErrMissing
	case 1:
	default:
		return "", fmt.Errorf("%w: %d authorization metadata values; send exactly one", tokens.ErrInvalid, len(values))
	}
	token, ok := wire.BearerToken(values[0])
	if !ok {
		return "", fmt.Errorf("%w: authorization metadata must be \"Bearer <token>\"", tokens.ErrInvalid)
	}
	return token, nil
}

// refusal maps why a stream was refused to a metric label and the status the client gets.
// A genuine token for someone else is PermissionDenied; every other token problem is
// Unauthenticated; a failure to check at all is Unavailable, so the client retries, and its
// detail stays in the log.
func refusal(node string, err error) (string, error) {
	const hint = "dataplane tokens come from `meshgate token dataplane --mesh M --name N`; " +
		"Envoy sends one from `meshgate bootstrap --dataplane-token-file FILE`"
	unauthenticated := func(result string) (string, error) {
		return result, status.Errorf(codes.Unauthenticated, "node %q: %v", node, err)
	}
	switch {
	case errors.Is(err, tokens.ErrMissing):
		return "missing", status.Errorf(codes.Unauthenticated,
			"node %q: no dataplane token: send gRPC metadata \"authorization: Bearer <token>\"; %s", node, hint)
	case errors.Is(err, tokens.ErrExpired):
		return unauthenticated("expired")
	case errors.Is(err, tokens.ErrRevoked):
		return unauthenticated("revoked")
	case errors.Is(err, tokens.ErrInvalid):
		return "invalid", status.Errorf(codes.Unauthenticated, "node %q: %v; %s", node, err, hint)
	case errors.Is(err, tokens.ErrWrongDataplane):
		return "wrong_dataplane", status.Errorf(codes.PermissionDenied, "node %q: %v", node, err)
	case errors.Is(err, errBadNode):
		return "bad_node", status.Error(codes.InvalidArgument, err.Error())
	}
	return "error", status.Errorf(codes.Unavailable, "node %q: the control plane cannot check dataplane tokens right now; retry", node)
}
