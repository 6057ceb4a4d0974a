package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// EndStreams ends exactly the streams reject refuses, with the status it gives (a plain error
// becomes Unauthenticated), and leaves the node's snapshot for the next admitted stream.
func TestEndStreams(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			g := gen{1, 1, 1, 1}
			for _, node := range []string{"default.revoked", "default.banned", "default.kept"} {
				h.set(t, node, g)
			}
			revoked := []xdsClient{p.dial(t, h, "default.revoked"), p.dial(t, h, "default.revoked")}
			banned := p.dial(t, h, "default.banned")
			kept := p.dial(t, h, "default.kept")
			for _, c := range append(revoked, banned, kept) {
				c.recv().sync(t, g)
			}

			var mu sync.Mutex
			seen := map[string]int{}
			ended := h.srv.EndStreams(func(ctx context.Context, node string) error {
				mu.Lock()
				defer mu.Unlock()
				seen[node]++
				if _, ok := peer.FromContext(ctx); !ok {
					t.Errorf("node %s: reject got a context without the peer", node)
				}
				switch node {
				case "default.revoked":
					return errors.New("token revoked")
				case "default.banned":
					return status.Error(codes.PermissionDenied, "banned")
				}
				return nil
			})
			if ended != 3 {
				t.Errorf("EndStreams ended %d streams, want 3", ended)
			}
			if seen["default.revoked"] != 2 || seen["default.banned"] != 1 || seen["default.kept"] != 1 {
				t.Errorf("reject called %v, want once per stream", seen)
			}
			for _, c := range revoked {
				err := c.recv().ended(t)
				wantCode(t, err, codes.Unauthenticated)
				if msg := status.Convert(err).Message(); !strings.Contains(msg, `node "default.revoked": token revoked`) {
					t.Errorf("status message %q does not say why", msg)
				}
			}
			wantCode(t, banned.recv().ended(t), codes.PermissionDenied)

			// The kept stream still gets updates; the ended node's snapshot is still served.
			h.set(t, "default.kept", gen{2, 1, 1, 1})
			if e := kept.recv().next(t); e.version != "cds-2" {
				t.Errorf("kept stream got %v, want the new clusters", e)
			}
			p.dial(t, h, "default.revoked").recv().sync(t, g)
			if n := h.srv.EndStreams(func(context.Context, string) error { return nil }); n != 0 {
				t.Errorf("EndStreams ended %d streams that reject kept", n)
			}
		})
	}
}
