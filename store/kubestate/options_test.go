package kubestate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/kubestate"
	"github.com/meshgate/meshgate/store/sqlite"
)

// TestNewRefuses: options New cannot work with are refused before any request, saying why.
// The client points at a closed port: each case must fail before New's first request.
func TestNewRefuses(t *testing.T) {
	ctx := testCtx(t)
	records, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = records.Close() })
	client, err := kubernetes.NewForConfig(&rest.Config{Host: "https://127.0.0.1:1"})
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		opts kubestate.Options
		want string
	}{
		"no client":    {kubestate.Options{Namespace: "ns", Records: records}, "no Kubernetes client"},
		"no namespace": {kubestate.Options{Client: client, Records: records}, "namespace is empty"},
		"no records":   {kubestate.Options{Client: client, Namespace: "ns"}, "no records store"},
		"records without leases": {
			kubestate.Options{Client: client, Namespace: "ns", Records: struct{ store.Store }{records}}, "holds no leases",
		},
	} {
		_, err := kubestate.New(ctx, tc.opts)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
		assert.NotErrorIs(t, err, store.ErrUnavailable, "%s: refused before asking the API server", name)
	}
}
