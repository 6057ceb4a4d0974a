package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/modify"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
	"github.com/meshgate/meshgate/xds/snapshot"
	"github.com/meshgate/meshgate/xds/translate"
)

// The replicas of a builtin gateway are configured alike: the same listeners, routes, clusters
// and endpoints, except that each listener binds the replica's own address and each replica
// has its own identity certificate. A class is one such group within one world: the first
// replica rendered is rendered in full (its representative), the others take its routes,
// clusters and endpoints as they are (the same sealed resources, marshalled once), a copy of
// its listeners with their address replaced, and secrets made from their own identity.
//
// Sharing is an optimisation and must never change what a replica receives, so it is refused
// whenever the representative's configuration could depend on who it is in a way the copy
// would not follow. xds/build reads a builtin gateway's name only to look it up and to name it
// in diagnostics, and its address only for the listeners' bind address and access log formats
// (%KUMA_SOURCE_ADDRESS%). So: a class whose representative is named by a diagnostic, or is
// selected by a ProxyTemplate, is not shared; and replicas at another address than the
// representative's share only when that address appears nowhere in its configuration but the
// bind addresses (a substring search, so a coincidence, such as a backend at the same address,
// costs a full rendering and never a wrong one). TestGatewayClassesRenderAsAlone compares both
// ways on every golden case.

type class struct {
	rep       *api.Dataplane
	proxy     *ir.Proxy
	listeners []*listenerv3.Listener
	secrets   []*tlsv3.Secret
	served    *cache.Snapshot
	deps      *dependencies
	// shareable is false when replicas must be rendered in full; addrBound when the
	// representative's address appears elsewhere than in bind addresses, so only replicas at
	// that address may share.
	shareable, addrBound bool
}

// classKey is the class of a builtin gateway dataplane: everything about it but its name and
// address (its address family included). "" means it is rendered on its own.
func classKey(ms *model.Mesh, dp *api.Dataplane, withIdentity bool) string {
	if !dp.Spec.IsBuiltin() || modify.Select(ms, dp) != nil {
		return ""
	}
	spec := dp.Spec
	spec.Networking.Address = ""
	raw, err := json.Marshal(spec)
	if err != nil {
		return ""
	}
	family := "4"
	if strings.Contains(dp.Spec.Networking.Address, ":") {
		family = "6"
	}
	return fmt.Sprintf("%s\x00%s\x00%s\x00%v\x00%t", ms.Name, family, raw, dp.Labels, withIdentity)
}

// newClass makes the representative's rendering the class's template.
func newClass(rep *api.Dataplane, out *render.Output, served *cache.Snapshot, deps *dependencies) *class {
	c := &class{rep: rep, proxy: out.Proxy, listeners: out.Resources.Listeners, secrets: out.Resources.Secrets, served: served, deps: deps}
	c.shareable = !mentions(out.Proxy.Diagnostics, rep)
	addr := []byte(rep.Spec.Networking.Address)
	if len(addr) == 0 {
		c.addrBound = true
		return c
	}
	for _, t := range []types.ResponseType{types.Route, types.Cluster, types.Endpoint, types.Secret} {
		for _, r := range served.Resources[t].Items {
			if bytes.Contains(r.Resource.ProtoReflect().GetUnknown(), addr) {
				c.addrBound = true
			}
		}
	}
	for _, l := range c.listeners {
		unbound := proto.Clone(l).(*listenerv3.Listener)
		rebind(unbound, rep.Spec.Networking.Address, "")
		raw, err := proto.Marshal(unbound)
		if err != nil || bytes.Contains(raw, addr) {
			c.addrBound = true
		}
	}
	return c
}

// member is dp's configuration taken from the class, or false when dp must be rendered alone.
func (c *class) member(dp *api.Dataplane, id *build.Identity) (*cache.Snapshot, bool, error) {
	if !c.shareable {
		return nil, false, nil
	}
	from, to := c.rep.Spec.Networking.Address, dp.Spec.Networking.Address
	if from != to && c.addrBound {
		return nil, false, nil
	}
	lis, err := c.listenersAt(from, to)
	if err != nil {
		return nil, false, err
	}
	secrets, err := c.secretsFor(id)
	if err != nil {
		return nil, false, err
	}
	_, sec, err := snapshot.Group("secret", types.Secret, secrets, true)
	if err != nil {
		return nil, false, err
	}
	snap := *c.served
	snap.Resources[types.Listener], snap.Resources[types.Secret] = lis, sec
	return &snap, true, nil
}

// listenersAt is the representative's listeners bound to address to instead of from, sealed.
func (c *class) listenersAt(from, to string) (cache.Resources, error) {
	if from == to {
		return c.served.Resources[types.Listener], nil
	}
	listeners := make([]types.Resource, len(c.listeners))
	for i, l := range c.listeners {
		cp := proto.Clone(l).(*listenerv3.Listener)
		rebind(cp, from, to)
		listeners[i] = cp
	}
	_, lis, err := snapshot.Group("listener", types.Listener, listeners, true)
	return lis, err
}

// secretsFor is the representative's secrets with the identity and its bundle replaced by the
// replica's.
func (c *class) secretsFor(id *build.Identity) ([]types.Resource, error) {
	out := make([]types.Resource, 0, len(c.secrets))
	mesh := c.proxy.Mesh
	for _, s := range c.secrets {
		switch {
		case id != nil && s.Name == names.IdentitySecret(mesh):
			own, err := translate.Secret(ir.Secret{Name: s.Name, CertificateChain: id.CertificateChain, PrivateKey: id.PrivateKey})
			if err != nil {
				return nil, err
			}
			out = append(out, own)
		case id != nil && s.Name == names.MeshCASecret(mesh):
			own, err := translate.Secret(ir.Secret{Name: s.Name, TrustedCA: id.TrustBundle})
			if err != nil {
				return nil, err
			}
			out = append(out, own)
		default:
			out = append(out, s)
		}
	}
	return out, nil
}

// rebind moves a listener from one bind address to another.
func rebind(l *listenerv3.Listener, from, to string) {
	if sa := l.GetAddress().GetSocketAddress(); sa != nil && sa.Address == from {
		sa.Address = to
	}
	for _, a := range l.GetAdditionalAddresses() {
		if sa := a.GetAddress().GetSocketAddress(); sa != nil && sa.Address == from {
			sa.Address = to
		}
	}
}

// mentions reports whether a diagnostic is about the dataplane itself.
func mentions(diags []api.FieldError, dp *api.Dataplane) bool {
	for _, d := range diags {
		if d.Resource == dp.DisplayName() {
			return true
		}
	}
	return false
}
