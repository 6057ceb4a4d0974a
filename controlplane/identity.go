package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/names"
)

// identities issues and caches each dataplane's workload certificate. A certificate is kept
// until 80 % of its life has passed, or until what it certifies (services, tags) or the mesh's
// CA configuration changes; so a rebuild for an unrelated change does not re-issue, and a
// renewal changes only the dataplane's secrets.
type identities struct {
	ca  *ca.Manager
	now func() time.Time

	mu     sync.Mutex
	byNode map[string]cachedIdentity
	// model is the model being built, read by the CA's Secret resolver.
	model *model.Model
}

type cachedIdentity struct {
	key      string
	identity build.Identity
	renewAt  time.Time
}

func newIdentities(st store.Store) (*identities, error) {
	i := &identities{now: time.Now, byNode: map[string]cachedIdentity{}}
	m, err := ca.New(st, ca.Options{Secrets: i.resolveSecret})
	if err != nil {
		return nil, err
	}
	i.ca = m
	return i, nil
}

// resolveSecret serves `secret:` data sources of provided CAs from the current model.
func (i *identities) resolveSecret(_ context.Context, mesh, name string) ([]byte, error) {
	i.mu.Lock()
	m := i.model
	i.mu.Unlock()
	if m == nil || m.Mesh(mesh) == nil || m.Mesh(mesh).Secrets[name] == nil {
		return nil, fmt.Errorf("secret %q not found in mesh %q", name, mesh)
	}
	return m.Mesh(mesh).Secrets[name].Spec.Bytes()
}

func (i *identities) setModel(m *model.Model) {
	i.mu.Lock()
	i.model = m
	i.mu.Unlock()
}

// forDataplane returns the dataplane's identity (nil when its mesh has no mTLS) and when it
// must be renewed.
func (i *identities) forDataplane(ctx context.Context, mesh *model.Mesh, dp *api.Dataplane) (*build.Identity, time.Time, error) {
	if !mesh.MTLSEnabled() {
		return nil, time.Time{}, nil
	}
	services, tags := identityOf(dp)
	mtls, err := json.Marshal(mesh.Resource.Spec.MTLS)
	if err != nil {
		return nil, time.Time{}, err
	}
	node := names.Node(mesh.Name, dp.Name)
	key := string(mtls) + "|" + strings.Join(services, ",") + "|" + fmt.Sprint(tags)
	i.mu.Lock()
	cached, ok := i.byNode[node]
	i.mu.Unlock()
	if ok && cached.key == key && i.now().Before(cached.renewAt) {
		id := cached.identity
		return &id, cached.renewAt, nil
	}
	authority, err := i.ca.For(ctx, mesh.Resource)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mesh %s CA: %w", mesh.Name, err)
	}
	issued, err := authority.Issue(ctx, ca.IssueRequest{Mesh: mesh.Name, Services: services, Tags: tags})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("issuing identity for %s: %w", node, err)
	}
	bundle, err := authority.Bundle(ctx)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mesh %s trust bundle: %w", mesh.Name, err)
	}
	bundlePEM, err := certs.BundlePEM(bundle)
	if err != nil {
		return nil, time.Time{}, err
	}
	id := build.Identity{CertificateChain: string(issued.CertPEM), PrivateKey: string(issued.KeyPEM), TrustBundle: string(bundlePEM)}
	i.mu.Lock()
	i.byNode[node] = cachedIdentity{key: key, identity: id, renewAt: issued.RenewAt}
	i.mu.Unlock()
	return &id, issued.RenewAt, nil
}

// forget drops cached identities of nodes that no longer exist.
func (i *identities) forget(keep map[string]DataplaneState) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for node := range i.byNode {
		if _, ok := keep[node]; !ok {
			delete(i.byNode, node)
		}
	}
}

// identityOf is what a dataplane's certificate states: its services (sorted, the primary one
// first) and its tags.
func identityOf(dp *api.Dataplane) ([]string, map[string][]string) {
	tags := map[string][]string{}
	add := func(set map[string]string) {
		for k, v := range set {
			tags[k] = append(tags[k], v)
		}
	}
	if g := dp.Spec.Networking.Gateway; g != nil {
		add(g.Tags)
	}
	for _, in := range dp.Spec.Networking.Inbound {
		add(in.Tags)
	}
	for k, vs := range tags {
		sort.Strings(vs)
		tags[k] = dedupe(vs)
	}
	return tags[names.ServiceTag], tags
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
