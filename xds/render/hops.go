package render

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/explain"
)

// DefaultMaxHops bounds Follow: consumer, cross-mesh gateway, backend, and one spare.
const DefaultMaxHops = 4

// Hop is one dataplane a request passes through, and what its Envoy does with it.
type Hop struct {
	Mesh      string          `json:"mesh"`
	Dataplane string          `json:"dataplane"`
	Request   explain.Request `json:"request"`
	Result    *explain.Result `json:"result"`
}

// FollowOptions tune Follow.
type FollowOptions struct {
	Options build.Options
	// Network is shared by every hop's render; nil computes the preview Network once.
	Network *build.Network
	// MaxHops bounds the hops; 0 means DefaultMaxHops, 1 explains the first dataplane only.
	MaxHops int
	// OutboundOnly follows the request only when the first hop's listener is an outbound: a
	// request arriving at a gateway or an inbound is explained at that dataplane alone.
	OutboundOnly bool
	// Served, when set, gives each hop's configuration (a running control plane's: what it
	// serves each dataplane now) instead of a rendering with preview CAs.
	Served func(mesh, name string) (*Output, error)
}

// Follow explains req at dataplane mesh/name and then, hop by hop, at the dataplane each hop
// forwards it to: when a hop picks an EDS cluster, the cluster's first healthy endpoint is
// looked up among the model's dataplanes (a builtin gateway at that address, or a sidecar
// with an inbound on that address and port, in the cluster's mesh: a cross-mesh cluster
// `<gateway>{port=<p>}_<mesh>` names it), which is rendered as the control plane serves it
// and explains the same request, as the previous hop sends it (rewritten path and host,
// request headers), on the endpoint's address and port, over TLS with the previous hop's
// identity as client certificate when its cluster originates mTLS. Every hop interprets only
// that dataplane's Envoy resources. It stops at a cluster that is not EDS (an application,
// an external service, the original destination), at an endpoint no dataplane serves, or
// after MaxHops.
func Follow(m *model.Model, mesh, name string, req explain.Request, opts FollowOptions) ([]Hop, error) {
	maxHops := opts.MaxHops
	if maxHops <= 0 {
		maxHops = DefaultMaxHops
	}
	served := opts.Served
	if served == nil {
		network := opts.Network
		if network == nil {
			network = build.PreviewNetwork(m)
		}
		ca, err := newPreviewCA(m)
		if err != nil {
			return nil, err
		}
		served = func(mesh, name string) (*Output, error) { return ca.served(m, mesh, name, opts.Options, network) }
	}
	var hops []Hop
	for {
		out, err := served(mesh, name)
		if err != nil {
			if len(hops) == 0 {
				return nil, err
			}
			return nil, fmt.Errorf("hop %d (%s/%s): %w", len(hops)+1, mesh, name, err)
		}
		res, err := explain.Explain(out.Resources, req)
		if err != nil {
			if len(hops) == 0 {
				return nil, err
			}
			return nil, fmt.Errorf("hop %d (%s/%s): %w", len(hops)+1, mesh, name, err)
		}
		hops = append(hops, Hop{Mesh: mesh, Dataplane: name, Request: req, Result: res})
		if len(hops) == 1 && opts.OutboundOnly && !res.Outbound {
			return hops, nil
		}
		next, why, err := nextHop(m, mesh, name, req, res)
		if err != nil {
			return nil, fmt.Errorf("hop %d (%s/%s): %w", len(hops), mesh, name, err)
		}
		if next == nil {
			if why != "" {
				res.Notes = append(res.Notes, why)
			}
			return hops, nil
		}
		if len(hops) >= maxHops {
			if maxHops > 1 {
				res.Notes = append(res.Notes, fmt.Sprintf("not followed to %s/%s: stopped after %d hops", next.Mesh, next.Dataplane, maxHops))
			}
			return hops, nil
		}
		mesh, name, req = next.Mesh, next.Dataplane, next.Request
	}
}

// nextHop is where res sends the request next, or nil with the reason it is not followed.
func nextHop(m *model.Model, mesh, name string, req explain.Request, res *explain.Result) (*Hop, string, error) {
	a := res.Action
	if a == nil || len(a.Forward) == 0 {
		return nil, "", nil
	}
	b := a.Forward[0]
	if b.Type != "EDS" {
		return nil, "", nil
	}
	if len(b.Addresses) == 0 {
		return nil, "", nil // explain has already said the cluster has no endpoints
	}
	more := ""
	if len(a.Forward) > 1 {
		more = fmt.Sprintf(" (the first of %d weighted clusters)", len(a.Forward))
	}
	ap, err := netip.ParseAddrPort(b.Addresses[0])
	if err != nil {
		return nil, fmt.Sprintf("not followed: endpoint %s of cluster %s is not an IP address and port", b.Addresses[0], b.Cluster), nil
	}
	toMesh, dp := servingDataplane(m, mesh, b.Cluster, ap)
	if dp == nil {
		return nil, fmt.Sprintf("not followed: no dataplane of the model serves %s, the first endpoint of cluster %s%s", ap, b.Cluster, more), nil
	}
	next := explain.Request{
		Port:    uint32(ap.Port()),
		Address: ap.Addr().String(),
		Host:    req.Host,
		Path:    req.Path,
		Method:  req.Method,
		Headers: applyHeaders(applyHeaders(req.Headers, a.RequestHeaders), b.RequestHeaders),
	}
	if a.UpstreamHost != "" {
		next.Host = a.UpstreamHost
	}
	if a.UpstreamPath != "" {
		next.Path = a.UpstreamPath
	}
	if t := b.TLS; t != nil {
		next.TLS, next.SNI, next.ALPN = true, t.SNI, t.ALPN
		if len(t.Identity) > 0 {
			peer, err := PeerOf(m, mesh, name)
			if err != nil {
				return nil, "", err
			}
			next.Source = peer
		}
	} else {
		next.Plaintext = true
	}
	if more != "" {
		res.Notes = append(res.Notes, "followed to "+ap.String()+more)
	}
	return &Hop{Mesh: toMesh, Dataplane: dp.Name, Request: next}, "", nil
}

// servingDataplane finds the dataplane behind an endpoint of cluster: in the mesh a cross-mesh
// cluster's `_<mesh>` suffix names, else in the consumer's own mesh.
func servingDataplane(m *model.Model, mesh, cluster string, ap netip.AddrPort) (string, *api.Dataplane) {
	var meshes []string
	for _, ms := range m.Meshes() {
		if ms.Name != mesh && strings.HasSuffix(cluster, "_"+ms.Name) {
			meshes = append(meshes, ms.Name)
		}
	}
	meshes = append(meshes, mesh)
	for _, name := range meshes {
		ms := m.Mesh(name)
		if ms == nil {
			continue
		}
		for _, dp := range ms.Dataplanes {
			n := dp.Spec.Networking
			if dp.Spec.IsBuiltin() {
				if sameIP(n.Address, ap.Addr()) {
					return name, dp
				}
				continue
			}
			for _, in := range n.Inbound {
				addr := in.Address
				if addr == "" {
					addr = n.Address
				}
				if in.Port == uint32(ap.Port()) && sameIP(addr, ap.Addr()) {
					return name, dp
				}
			}
		}
	}
	return "", nil
}

func sameIP(s string, ip netip.Addr) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Unmap() == ip.Unmap()
}

// applyHeaders is the request as the upstream receives it after a hop's header changes:
// removals, then sets (replacing every value), then additions.
func applyHeaders(hs []explain.Header, c *explain.HeaderChanges) []explain.Header {
	if c == nil {
		return hs
	}
	out := append([]explain.Header(nil), hs...)
	has := func(name string) bool {
		for _, h := range out {
			if strings.EqualFold(h.Name, name) {
				return true
			}
		}
		return false
	}
	drop := func(name string) {
		kept := out[:0]
		for _, h := range out {
			if !strings.EqualFold(h.Name, name) {
				kept = append(kept, h)
			}
		}
		out = kept
	}
	for _, n := range c.Remove {
		drop(n)
	}
	for _, v := range c.Set {
		if v.IfPresent && !has(v.Name) {
			continue
		}
		drop(v.Name)
		out = append(out, explain.Header{Name: v.Name, Value: v.Value})
	}
	for _, v := range c.Add {
		if v.IfAbsent && has(v.Name) {
			continue
		}
		out = append(out, explain.Header{Name: v.Name, Value: v.Value})
	}
	return out
}

// PeerOf is the client certificate dataplane mesh/name presents: the URI SANs of the identity
// its mesh's CA issues it.
func PeerOf(m *model.Model, mesh, name string) (*explain.Peer, error) {
	ms := m.Mesh(mesh)
	if ms == nil {
		return nil, fmt.Errorf("mesh %q not found", mesh)
	}
	dp := ms.Dataplane(name)
	if dp == nil {
		return nil, fmt.Errorf("dataplane %s/%s not found", mesh, name)
	}
	if !ms.MTLSEnabled() {
		return nil, fmt.Errorf("mesh %q has no mTLS, so dataplane %s/%s has no certificate", mesh, mesh, name)
	}
	// The same statement the control plane issues from (ca.DataplaneSubject), so explain's
	// RBAC answers hold for the certificates dataplanes really present.
	uris, err := ca.DataplaneSubject(mesh, dp).URIs()
	if err != nil {
		return nil, fmt.Errorf("identity of %s/%s: %w", mesh, name, err)
	}
	if dp.IsProxyless() {
		// A gRPC workload presents the X509-SVID of the identity endpoint (`meshgate agent`):
		// its primary SPIFFE ID alone, the first of the subject's.
		uris = uris[:1]
	}
	p := &explain.Peer{TrustDomain: mesh}
	for _, u := range uris {
		p.URIs = append(p.URIs, u.String())
	}
	return p, nil
}

// previewCA stands in for the CAs of a running control plane: a throwaway root per mTLS mesh,
// made once per Follow, so that a render carries the identity and trust secrets (the
// cross-mesh SPIFFE validator with one trust domain per mesh) exactly as they are served. The
// identity's key is never needed: the certificate is a placeholder.
type previewCA struct {
	bundles map[string]string
}

func newPreviewCA(m *model.Model) (*previewCA, error) {
	p := &previewCA{bundles: map[string]string{}}
	now := time.Now()
	for _, ms := range m.Meshes() {
		if !ms.MTLSEnabled() {
			continue
		}
		key, err := certs.GenerateKey(certs.ECDSAP256)
		if err != nil {
			return nil, err
		}
		serial, err := certs.NewSerial()
		if err != nil {
			return nil, err
		}
		tmpl, err := certs.RootTemplate(certs.RootParams{Mesh: ms.Name, PublicKey: key.Public(), Serial: serial, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)})
		if err != nil {
			return nil, fmt.Errorf("preview CA of mesh %s: %w", ms.Name, err)
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return nil, fmt.Errorf("preview CA of mesh %s: %w", ms.Name, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		p.bundles[ms.Name] = string(certs.EncodeCertificates(cert))
	}
	return p, nil
}

// served renders dataplane mesh/name as the control plane serves it: with its mesh identity
// and every mTLS mesh's trust bundle, from the preview CAs. The result is for explaining, never
// for an Envoy.
func (p *previewCA) served(m *model.Model, mesh, name string, opts build.Options, network *build.Network) (*Output, error) {
	req := build.Request{Model: m, Mesh: mesh, Name: name, Options: opts, Network: network, MeshBundles: p.bundles}
	if b := p.bundles[mesh]; b != "" {
		req.Identity = &build.Identity{
			CertificateChain: "# preview: the identity the CA of mesh " + mesh + " issues\n",
			PrivateKey:       "# preview: its private key\n",
			TrustBundle:      b,
		}
	}
	return Render(req)
}

// HopsText renders the hops for a terminal: each hop's explanation under a `hop N` heading
// naming the dataplane and the address the previous hop connected to.
func HopsText(hops []Hop) string {
	var b strings.Builder
	for i, h := range hops {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "hop %d  %s/%s", i+1, h.Mesh, h.Dataplane)
		if i > 0 && h.Request.Address != "" {
			fmt.Fprintf(&b, "  (%s)", netip.AddrPortFrom(netip.MustParseAddr(h.Request.Address), uint16(h.Request.Port)))
		}
		b.WriteString("\n")
		b.WriteString(h.Result.Text())
	}
	return b.String()
}

// ResolveHost is the VIP at which a transparently proxied dataplane mesh/name reaches host
// (`.mesh` names, cross-mesh hostnames, ExternalService hosts), as the embedded DNS answers:
// where explain's first hop starts when only a host is given. false for a dataplane without
// transparent proxying or a host with no VIP.
func ResolveHost(m *model.Model, network *build.Network, mesh, name, host string) (netip.Addr, bool) {
	ms := m.Mesh(mesh)
	if ms == nil || network == nil {
		return netip.Addr{}, false
	}
	dp := ms.Dataplane(name)
	if dp == nil || dp.Spec.Networking.TransparentProxying == nil {
		return netip.Addr{}, false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return network.Resolve(mesh, strings.ToLower(strings.TrimSuffix(host, ".")))
}
