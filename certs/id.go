package certs

import (
	"errors"
	"fmt"
	"net/url"
	"sort"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// KumaScheme is the URI scheme of the tag URIs Kuma puts next to the SPIFFE IDs; Kuma's
// policies and other meshes' dataplanes match on them, so they stay for compatibility.
const KumaScheme = "kuma"

// SPIFFEScheme is the scheme of SPIFFE IDs; RBAC principals match on `spiffe://<mesh>/`.
const SPIFFEScheme = "spiffe"

// TrustDomain is the SPIFFE trust domain of a mesh: the mesh name itself.
func TrustDomain(mesh string) (spiffeid.TrustDomain, error) {
	td, err := spiffeid.TrustDomainFromString(mesh)
	if err != nil {
		return spiffeid.TrustDomain{}, fmt.Errorf("mesh %q as SPIFFE trust domain: %w", mesh, err)
	}
	return td, nil
}

// ServiceID is the SPIFFE ID of a mesh service: `spiffe://<mesh>/<service>`. The service is one
// path segment, so a `/` in a service name is an error rather than a deeper path.
func ServiceID(mesh, service string) (spiffeid.ID, error) {
	td, err := TrustDomain(mesh)
	if err != nil {
		return spiffeid.ID{}, err
	}
	id, err := spiffeid.FromSegments(td, service)
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("service %q as SPIFFE path: %w", service, err)
	}
	return id, nil
}

// KumaURI is the tag URI Kuma writes into workload certificates: `kuma://<tag>/<value>`, such
// as `kuma://kuma.io/service/web` or `kuma://version/v1`.
func KumaURI(tag, value string) (*url.URL, error) {
	if tag == "" || value == "" {
		return nil, fmt.Errorf("tag %q=%q: tag and value must not be empty", tag, value)
	}
	u, err := url.Parse(KumaScheme + "://" + tag + "/" + value)
	if err != nil {
		return nil, fmt.Errorf("tag %q=%q as URI: %w", tag, value, err)
	}
	return u, nil
}

// Identity is what one workload certificate asserts.
type Identity struct {
	Mesh string
	// Services become `spiffe://<mesh>/<service>`, in this order, duplicates dropped. The first
	// is the primary identity: Envoy's SPIFFE validator reads only the first URI SAN.
	Services []string
	// Tags are the dataplane's tags (inbound ∪ gateway tags, multi-valued), as Kuma puts them
	// into certificates: every key, sorted, with each distinct value, sorted.
	Tags map[string][]string
}

// IDs returns the SPIFFE IDs, one per distinct service.
func (id Identity) IDs() ([]spiffeid.ID, error) {
	if len(id.Services) == 0 {
		return nil, errors.New("identity has no service")
	}
	ids := make([]spiffeid.ID, 0, len(id.Services))
	seen := make(map[string]bool, len(id.Services))
	for _, svc := range id.Services {
		if seen[svc] {
			continue
		}
		seen[svc] = true
		sid, err := ServiceID(id.Mesh, svc)
		if err != nil {
			return nil, err
		}
		ids = append(ids, sid)
	}
	return ids, nil
}

// URIs returns the URI SANs of the certificate, in Kuma's order: the SPIFFE IDs, then the tag
// URIs by key and value.
func (id Identity) URIs() ([]*url.URL, error) {
	ids, err := id.IDs()
	if err != nil {
		return nil, err
	}
	uris := make([]*url.URL, 0, len(ids)+len(id.Tags))
	for _, sid := range ids {
		uris = append(uris, sid.URL())
	}
	keys := make([]string, 0, len(id.Tags))
	for k := range id.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		values := append([]string(nil), id.Tags[k]...)
		sort.Strings(values)
		for i, v := range values {
			if i > 0 && v == values[i-1] {
				continue
			}
			u, err := KumaURI(k, v)
			if err != nil {
				return nil, err
			}
			uris = append(uris, u)
		}
	}
	return uris, nil
}
