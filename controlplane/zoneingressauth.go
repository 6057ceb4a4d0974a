package controlplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/ca/zonetokens"
)

// verifyIngressToken admits the Envoy of one of this zone's ZoneIngresses (node `.<name>`)
// with a token `meshgate token zone-ingress --name <name>` issued. Only a zone control plane
// serves ingresses; the errors map onto the dataplane token errors, so the refusal's status
// and metric label follow the same rules.
func (cp *ControlPlane) verifyIngressToken(ctx context.Context, token, name string) error {
	if cp.mz == nil || cp.mz.ingressTokens == nil {
		return fmt.Errorf("%w: node %q names a ZoneIngress, which only a zone control plane (run --mode zone) serves", errBadNode, "."+name)
	}
	subject, err := cp.mz.ingressTokens.Verify(ctx, token)
	switch {
	case errors.Is(err, zonetokens.ErrMissing):
		return fmt.Errorf("%w: %v", tokens.ErrMissing, err)
	case errors.Is(err, zonetokens.ErrExpired):
		return fmt.Errorf("%w: %v", tokens.ErrExpired, err)
	case errors.Is(err, zonetokens.ErrRevoked):
		return fmt.Errorf("%w: %v", tokens.ErrRevoked, err)
	case errors.Is(err, zonetokens.ErrInvalid):
		return fmt.Errorf("%w: %v", tokens.ErrInvalid, err)
	case err != nil:
		return err
	case subject != name:
		return fmt.Errorf("%w: the token is ZoneIngress %q's, not %q's", tokens.ErrWrongDataplane, subject, name)
	}
	return nil
}
