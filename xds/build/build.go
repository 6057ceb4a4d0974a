// Package build turns the model into the IR of one dataplane: it binds a builtin gateway
// dataplane to its MeshGateway, attaches routes to listeners, builds virtual hosts, expands and
// orders route entries, and collects the clusters, endpoints and certificates they need. It is a
// pure function of the model and the options.
package build

import (
	"fmt"
	"net"
	"sort"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// Request names the dataplane to build and everything its configuration depends on.
type Request struct {
	Model   *model.Model
	Mesh    string
	Name    string
	Options Options
	// Identity is the dataplane's workload certificate and its mesh's trust bundle, issued by
	// the CA. When nil (an offline render), mTLS clusters still name the SDS secrets, which only
	// a running control plane delivers.
	Identity *Identity
	// MeshBundles is the PEM trust bundle of every mTLS mesh, by mesh name. Cross-mesh
	// listeners trust exactly these; without them (an offline render) they are not built.
	MeshBundles map[string]string
	// Network indexes services, cross-mesh exposures and VIPs for the whole model; compute it
	// once with NewNetwork and share it between dataplanes. When nil, PreviewNetwork is used.
	Network *Network
}

// Identity is PEM material for the mesh identity and trust bundle secrets.
type Identity struct {
	CertificateChain string
	PrivateKey       string
	TrustBundle      string
}

// Proxy builds the IR for one dataplane.
func Proxy(req Request) (*ir.Proxy, error) {
	m, mesh, name, opts := req.Model, req.Mesh, req.Name, req.Options
	ms := m.Mesh(mesh)
	if ms == nil {
		return nil, fmt.Errorf("mesh %q not found", mesh)
	}
	dp := ms.Dataplane(name)
	if dp == nil {
		return nil, fmt.Errorf("dataplane %s/%s not found", mesh, name)
	}
	b := &builder{
		mesh:     ms,
		dp:       dp,
		opts:     opts,
		proxy:    &ir.Proxy{Node: names.Node(mesh, name), Mesh: mesh, Dataplane: name, Offline: req.Identity == nil},
		clusters: map[string]*ir.Cluster{},
		secrets:  map[string]ir.Secret{},
		model:    m,
		identity: req.Identity,
		bundles:  req.MeshBundles,
		network:  req.Network,
	}
	if b.network == nil {
		b.network = PreviewNetwork(m)
	}
	if dp.IsProxyless() {
		b.proxyless()
		b.finish()
		return b.proxy, nil
	}
	if !dp.Spec.IsBuiltin() {
		b.identitySecrets(req.Identity)
		b.sidecar()
		b.finish()
		return b.proxy, nil
	}
	gw := ms.Gateway(dp.Spec.Networking.Gateway.Tags)
	if gw == nil {
		b.diag(&dp.Meta, "networking.gateway.tags", "no MeshGateway selects this dataplane; it gets no listeners")
		return b.proxy, nil
	}
	b.gateway = gw
	b.identitySecrets(req.Identity)
	if net.ParseIP(dp.Spec.Networking.Address) == nil {
		b.diag(&dp.Meta, "networking.address", "gateway listeners bind to this address, so it must be an IP address, not %q", dp.Spec.Networking.Address)
		return b.proxy, nil
	}
	for _, port := range b.ports() {
		if l, ok := b.listener(port); ok {
			b.proxy.Listeners = append(b.proxy.Listeners, l)
		}
	}
	b.finish()
	return b.proxy, nil
}

type builder struct {
	// peerIsCaller is set while a cross-mesh chain is built: its caller is the verified peer.
	peerIsCaller bool
	mesh         *model.Mesh
	dp           *api.Dataplane
	gateway      *api.MeshGateway
	opts         Options
	proxy        *ir.Proxy
	clusters     map[string]*ir.Cluster
	secrets      map[string]ir.Secret
	model        *model.Model
	identity     *Identity
	bundles      map[string]string
	network      *Network
	// deniedExternal are the external services TrafficPermission kept from this dataplane,
	// already reported.
	deniedExternal map[string]bool
}

func (b *builder) diag(meta *api.Meta, field, format string, args ...any) {
	b.proxy.Diagnostics = append(b.proxy.Diagnostics, meta.Problem(field, fmt.Sprintf(format, args...)))
}

// finish emits the collected clusters and secrets in name order.
func (b *builder) finish() {
	for _, c := range b.clusters {
		b.proxy.Clusters = append(b.proxy.Clusters, *c)
	}
	sort.Slice(b.proxy.Clusters, func(i, j int) bool { return b.proxy.Clusters[i].Name < b.proxy.Clusters[j].Name })
	for _, s := range b.secrets {
		b.proxy.Secrets = append(b.proxy.Secrets, s)
	}
	sort.Slice(b.proxy.Secrets, func(i, j int) bool { return b.proxy.Secrets[i].Name < b.proxy.Secrets[j].Name })
}

// identitySecrets adds the mesh identity and trust bundle, which every mTLS cluster of the
// dataplane references.
func (b *builder) identitySecrets(id *Identity) {
	if id == nil || !b.mesh.MTLSEnabled() {
		return
	}
	b.secrets[names.IdentitySecret(b.mesh.Name)] = ir.Secret{
		Name: names.IdentitySecret(b.mesh.Name), CertificateChain: id.CertificateChain, PrivateKey: id.PrivateKey,
	}
	b.secrets[names.MeshCASecret(b.mesh.Name)] = ir.Secret{Name: names.MeshCASecret(b.mesh.Name), TrustedCA: id.TrustBundle}
}

// gatewayService is the gateway's identifying service: its stat prefix and tags header source.
func (b *builder) gatewayService() string {
	return b.dp.Spec.Networking.Gateway.Tags[api.ServiceTag]
}
