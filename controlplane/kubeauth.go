package controlplane

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/kube/podconv"
	"github.com/meshgate/meshgate/store"
)

// saTokenAuth admits a Kubernetes dataplane with its pod's ServiceAccount token, as Kuma
// does: a TokenReview says whose token it is, and the pod the dataplane was derived from must
// run as that ServiceAccount in that namespace. A meshgate dataplane token is accepted too,
// so a universal dataplane can still join a control plane running in a cluster.
type saTokenAuth struct {
	client  kubernetes.Interface
	pods    func(namespace, name string) (podIdentity, bool)
	records store.Store
	// fallback verifies meshgate dataplane tokens.
	fallback func(ctx context.Context, token, mesh, name string) (tokens.Info, error)

	mu sync.Mutex
	// reviewed caches successful reviews briefly: one TokenReview per token per minute, not per
	// stream, however often a dataplane reconnects.
	reviewed map[[32]byte]reviewedToken
}

type reviewedToken struct {
	namespace, serviceAccount string
	until                     time.Time
}

type podIdentity struct {
	ServiceAccount string
}

const reviewCacheTTL = time.Minute

const saPrefix = "system:serviceaccount:"

func (a *saTokenAuth) verify(ctx context.Context, token, mesh, name string) (tokens.Info, error) {
	ns, sa, err := a.review(ctx, token)
	if errors.Is(err, errNotServiceAccount) && a.fallback != nil {
		return a.fallback(ctx, token, mesh, name)
	}
	if err != nil {
		return tokens.Info{}, err
	}
	podNS, pod, ok := podconv.PodOf(name)
	if !ok {
		return tokens.Info{}, fmt.Errorf("%w: dataplane %q is not a pod's (<pod>.<namespace>)", tokens.ErrWrongDataplane, name)
	}
	if podNS != ns {
		return tokens.Info{}, fmt.Errorf("%w: the token is of ServiceAccount %s/%s, the dataplane is pod %s/%s",
			tokens.ErrWrongDataplane, ns, sa, podNS, pod)
	}
	id, ok := a.pods(podNS, pod)
	if !ok {
		return tokens.Info{}, fmt.Errorf("%w: no pod %s/%s", tokens.ErrWrongDataplane, podNS, pod)
	}
	if id.ServiceAccount != sa {
		return tokens.Info{}, fmt.Errorf("%w: pod %s/%s runs as ServiceAccount %s, the token is of %s",
			tokens.ErrWrongDataplane, podNS, pod, id.ServiceAccount, sa)
	}
	if _, err := a.records.Get(ctx, store.Key{Kind: string(api.KindDataplane), Mesh: mesh, Name: name}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return tokens.Info{}, fmt.Errorf("%w: pod %s/%s is no dataplane of mesh %q", tokens.ErrWrongDataplane, podNS, pod, mesh)
		}
		return tokens.Info{}, err
	}
	return tokens.Info{Mesh: mesh, Name: name}, nil
}

var errNotServiceAccount = errors.New("not a ServiceAccount token")

// review asks the API server whose token this is.
func (a *saTokenAuth) review(ctx context.Context, token string) (namespace, serviceAccount string, err error) {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	a.mu.Lock()
	if r, ok := a.reviewed[key]; ok && now.Before(r.until) {
		a.mu.Unlock()
		return r.namespace, r.serviceAccount, nil
	}
	a.mu.Unlock()
	tr, err := a.client.AuthenticationV1().TokenReviews().Create(ctx,
		&authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return "", "", fmt.Errorf("TokenReview: %w", err)
	}
	if !tr.Status.Authenticated {
		msg := tr.Status.Error
		if msg == "" {
			msg = "the API server did not authenticate it"
		}
		return "", "", fmt.Errorf("%w: %w (%s)", tokens.ErrInvalid, errNotServiceAccount, msg)
	}
	user := tr.Status.User.Username
	rest, ok := strings.CutPrefix(user, saPrefix)
	ns, sa, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || ns == "" || sa == "" {
		return "", "", fmt.Errorf("%w: the token is of %q, not of a ServiceAccount", tokens.ErrInvalid, user)
	}
	a.mu.Lock()
	if len(a.reviewed) > 10000 {
		clear(a.reviewed) // bounded: a flood of distinct tokens cannot grow it further
	}
	a.reviewed[key] = reviewedToken{namespace: ns, serviceAccount: sa, until: now.Add(reviewCacheTTL)}
	a.mu.Unlock()
	return ns, sa, nil
}

// auth builds the xDS authenticator of Kubernetes mode; pods are looked up in the source's
// informer cache once it exists.
func (k *kubeMode) auth(records store.Store, fallback func(ctx context.Context, token, mesh, name string) (tokens.Info, error)) *saTokenAuth {
	return &saTokenAuth{
		client: k.client, records: records, fallback: fallback, reviewed: map[[32]byte]reviewedToken{},
		pods: func(namespace, name string) (podIdentity, bool) {
			if k.source == nil {
				return podIdentity{}, false
			}
			p, ok := k.source.Pod(namespace, name)
			if !ok {
				return podIdentity{}, false
			}
			sa := p.Spec.ServiceAccountName
			if sa == "" {
				sa = "default"
			}
			return podIdentity{ServiceAccount: sa}, true
		},
	}
}
