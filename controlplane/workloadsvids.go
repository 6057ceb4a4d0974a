package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/model"
)

// errNoService: a dataplane without a kuma.io/service tag has no SPIFFE ID to certify.
var errNoService = errors.New("the dataplane has no kuma.io/service tag, hence no SPIFFE ID")

// workloadSVIDs issues the X509-SVIDs the identity endpoint serves (`meshgate agent`, gRPC
// proxyless workloads). They come from the same mesh CA, and are checked against the same
// bundle, as the certificates the identity service issues for Envoy's SDS, but they are a
// separate leaf per dataplane: the SPIFFE X509-SVID spec allows exactly one URI SAN, and
// go-spiffe's Workload API client and gRPC's SPIFFE bundle-map verification reject a
// certificate with more, while Envoy's leaves also carry one SPIFFE ID per service and Kuma's
// kuma:// tag URIs. Only the primary SPIFFE ID goes into these.
//
// They are kept in memory only: a restart, or another replica, issues a new one, which is as
// valid as the one the agent holds (both chain to the mesh's roots).
type workloadSVIDs struct {
	ids *identity.Service
	now func() time.Time

	// mu is held across an issue too: the endpoint is asked once per renewal per agent, so
	// serialising issues costs nothing and never issues twice for one dataplane.
	mu     sync.Mutex
	byNode map[identity.Dataplane]workloadSVID
}

// workloadSVID is one issued X509-SVID with its key, as PEM.
type workloadSVID struct {
	id       spiffeid.ID
	chain    string
	key      string
	notAfter time.Time
	renewAt  time.Time
}

func newWorkloadSVIDs(ids *identity.Service, now func() time.Time) *workloadSVIDs {
	if now == nil {
		now = time.Now
	}
	return &workloadSVIDs{ids: ids, now: now, byNode: map[identity.Dataplane]workloadSVID{}}
}

// svidRequest names the dataplane whose SVID is asked for; Bundle is its mesh's bundle PEM as
// the identity service gives it to dataplanes (retiring roots included).
type svidRequest struct {
	Mesh      *model.Mesh
	Dataplane *api.Dataplane
	Bundle    string
}

// get returns the dataplane's current SVID: the cached one while it is before its renewal
// time, states the dataplane's primary service, and still chains to the mesh's bundle (a
// re-created mesh, or a root that left the bundle, gets a new one at once); otherwise a new one.
func (s *workloadSVIDs) get(ctx context.Context, req svidRequest) (workloadSVID, error) {
	node := identity.Dataplane{Mesh: req.Mesh.Name, Name: req.Dataplane.Name}
	subject := ca.DataplaneSubject(req.Mesh.Name, req.Dataplane)
	if len(subject.Services) == 0 {
		return workloadSVID{}, fmt.Errorf("dataplane %s: %w", node, errNoService)
	}
	id, err := certs.ServiceID(req.Mesh.Name, subject.Services[0])
	if err != nil {
		return workloadSVID{}, fmt.Errorf("dataplane %s: %w", node, err)
	}
	bundle, err := certs.ParseBundle(req.Mesh.Name, []byte(req.Bundle))
	if err != nil {
		return workloadSVID{}, fmt.Errorf("dataplane %s: %w", node, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.pruneLocked(now)
	if c, ok := s.byNode[node]; ok && c.id == id && now.Before(c.renewAt) && chainsTo(c.chain, bundle, now) {
		return c, nil
	}
	authority, err := s.ids.Authority(ctx, req.Mesh.Resource)
	if err != nil {
		return workloadSVID{}, fmt.Errorf("mesh %s CA: %w", req.Mesh.Name, err)
	}
	issued, err := authority.Issue(ctx, ca.IssueRequest{Mesh: req.Mesh.Name, Services: []string{subject.Services[0]}})
	if err != nil {
		return workloadSVID{}, fmt.Errorf("issuing the X509-SVID of %s: %w", node, err)
	}
	c := workloadSVID{id: id, chain: string(issued.CertPEM), key: string(issued.KeyPEM), notAfter: issued.NotAfter, renewAt: issued.RenewAt}
	s.byNode[node] = c
	return c, nil
}

// pruneLocked drops expired SVIDs, so dataplanes that went away do not stay in memory.
func (s *workloadSVIDs) pruneLocked(now time.Time) {
	for node, c := range s.byNode {
		if !now.Before(c.notAfter) {
			delete(s.byNode, node)
		}
	}
}

// chainsTo reports whether the PEM chain verifies against the bundle at now.
func chainsTo(chainPEM string, bundle x509bundle.Source, now time.Time) bool {
	chain, err := certs.ParseCertificates([]byte(chainPEM))
	if err != nil {
		return false
	}
	_, err = certs.VerifySVID(chain, bundle, now)
	return err == nil
}
