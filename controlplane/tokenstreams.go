package controlplane

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/ca/zonetokens"
)

// streamEnder is the part of the ADS server that ends streams.
type streamEnder interface {
	EndStreams(reject func(ctx context.Context, node string) error) int
}

// How often open streams' meshes are polled for a revocation or a deletion made on another
// control plane (the polls refresh what is older than tokens.DefaultRevocationTTL less one
// poll, so such a change ends its streams within the TTL), and how often every open stream is
// re-checked whatever the polls say.
const (
	streamPollEvery    = time.Second
	streamRecheckEvery = 30 * time.Second
)

// tokenStreams ends the xDS streams whose token is no longer accepted: revoked, or of a mesh
// deleted or re-created since. A token is checked when its stream opens; this re-checks it
// while the stream stays open, so that it gets no further configuration or identity. A
// revocation made here ends its streams at once (revokeToken calls recheck); one made on
// another control plane, or a mesh deleted there, within the token caches' TTL and a poll.
type tokenStreams struct {
	tokens *tokens.Issuer
	xds    streamEnder
	log    *slog.Logger
	ended  *prometheus.CounterVec

	mu sync.Mutex
	// epochs are the meshes' tokens.Epoch at their last re-check.
	epochs map[string]string
	// infos are the claims of the tokens of open streams, parsed once.
	infos map[string]tokens.Info
}

func newTokenStreams(issuer *tokens.Issuer, xds streamEnder, reg prometheus.Registerer, log *slog.Logger) *tokenStreams {
	ended := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "meshgate_xds_streams_deauthorized_total",
		Help: "Open xDS streams ended because their token stopped being accepted: revoked, expired, or invalid (its mesh was deleted or re-created).",
	}, []string{"reason"})
	if reg != nil {
		if err := reg.Register(ended); err != nil {
			log.Error("registering xDS stream re-check metrics", "error", err)
		}
	}
	return &tokenStreams{tokens: issuer, xds: xds, log: log, ended: ended, epochs: map[string]string{}, infos: map[string]tokens.Info{}}
}

// recheck re-checks the open streams of the named meshes (of every mesh when none is named),
// and ends those whose token is no longer accepted with Unauthenticated. A token that cannot be
// checked (the store is out of reach) keeps its stream. It returns how many streams it ended.
func (s *tokenStreams) recheck(ctx context.Context, meshes ...string) int {
	only := map[string]bool{}
	for _, m := range meshes {
		only[m] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]tokens.Info{}
	ended := s.xds.EndStreams(func(sctx context.Context, node string) error {
		mesh, _, err := splitNode(node)
		if err != nil || (len(only) > 0 && !only[mesh]) {
			return nil
		}
		token, err := bearerToken(sctx)
		if err != nil {
			return nil
		}
		info, ok := s.infos[token]
		if !ok {
			if info, err = tokens.ParseUnverified(token); err != nil {
				return nil
			}
		}
		if info.Mesh == "" {
			// Not a dataplane token (a pod's ServiceAccount token in Kubernetes mode): the pod
			// and its ServiceAccount were checked when the stream opened; nothing to revoke.
			return nil
		}
		seen[token] = info
		err = s.tokens.Recheck(ctx, info)
		var reason string
		switch {
		case err == nil:
			return nil
		case errors.Is(err, tokens.ErrRevoked):
			reason = "revoked"
		case errors.Is(err, tokens.ErrInvalid):
			reason = "invalid"
		default:
			s.log.Warn("cannot re-check an xDS stream's token; the stream stays open", "node", node, "error", err)
			return nil
		}
		s.ended.WithLabelValues(reason).Inc()
		return status.Errorf(codes.Unauthenticated, "node %q: %v", node, err)
	})
	if len(only) == 0 {
		s.infos = seen
	} else {
		maps.Copy(s.infos, seen)
	}
	return ended
}

// run polls the meshes of open streams every streamPollEvery and re-checks the streams of
// those whose token state moved, and every stream every streamRecheckEvery, until ctx ends.
func (s *tokenStreams) run(ctx context.Context) {
	poll := time.NewTicker(streamPollEvery)
	defer poll.Stop()
	lastFull := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
		if time.Since(lastFull) >= streamRecheckEvery {
			s.recheck(ctx)
			lastFull = time.Now()
			continue
		}
		if moved := s.moved(ctx); len(moved) > 0 {
			s.recheck(ctx, moved...)
		}
	}
}

// moved returns the meshes of open streams whose tokens.Epoch changed since the last poll. On
// the way it ends the streams whose token has expired: a token is checked when its stream
// opens, and without this a stream would be served (identities renewed) long after its token
// stopped being accepted, including past a revocation pruned at the token's expiry.
func (s *tokenStreams) moved(ctx context.Context) []string {
	open := map[string]bool{}
	now := time.Now()
	s.mu.Lock()
	s.xds.EndStreams(func(sctx context.Context, node string) error {
		token, err := bearerToken(sctx)
		if isIngressNode(node) && err == nil {
			// A ZoneIngress's token (zonetokens): the same rule, its own claims.
			if exp, err := zonetokens.Expiry(token); err == nil && !exp.IsZero() && !now.Before(exp) {
				s.ended.WithLabelValues("expired").Inc()
				return status.Errorf(codes.Unauthenticated, "node %q: its ZoneIngress token expired at %s; issue a new one (meshgate token zone-ingress)",
					node, exp.UTC().Format(time.RFC3339))
			}
			return nil
		}
		mesh, _, serr := splitNode(node)
		if serr != nil {
			return nil
		}
		open[mesh] = true
		if err != nil {
			return nil
		}
		info, ok := s.infos[token]
		if !ok {
			if info, err = tokens.ParseUnverified(token); err != nil || info.Mesh == "" {
				return nil
			}
			s.infos[token] = info
		}
		if info.ExpiresAt.IsZero() || now.Before(info.ExpiresAt) {
			return nil
		}
		s.ended.WithLabelValues("expired").Inc()
		return status.Errorf(codes.Unauthenticated, "node %q: %v: it expired at %s; issue a new one (meshgate token dataplane)",
			node, tokens.ErrExpired, info.ExpiresAt.UTC().Format(time.RFC3339))
	})
	s.mu.Unlock()
	var moved []string
	epochs := map[string]string{}
	for mesh := range open {
		epoch, err := s.tokens.Epoch(ctx, mesh, tokens.DefaultRevocationTTL-streamPollEvery)
		if err != nil {
			s.log.Debug("polling a mesh's token state", "mesh", mesh, "error", err)
			continue
		}
		epochs[mesh] = epoch
	}
	s.mu.Lock()
	for mesh, epoch := range epochs {
		if s.epochs[mesh] != epoch {
			moved = append(moved, mesh)
		}
	}
	s.epochs = epochs
	s.mu.Unlock()
	return moved
}

// start runs the poller until ctx ends; stop waits for it.
func (s *tokenStreams) start(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(ctx)
	}()
	return func() { <-done }
}
