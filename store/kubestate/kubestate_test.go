package kubestate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/kubestate"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/store/storetest"
	"github.com/meshgate/meshgate/test/kubetest"
)

// TestContract runs the store contract against records in SQLite and state in Secrets on the
// real API server.
func TestContract(t *testing.T) {
	storetest.Run(t, opener(kubetest.Client(t)))
}

// TestLeaseContract: the leases are the records store's, and fenced writes go to Secrets.
func TestLeaseContract(t *testing.T) {
	storetest.RunLease(t, opener(kubetest.Client(t)))
}

// storage is what one test's stores live on: a data dir and a namespace.
type storage struct {
	dir, namespace string
}

// opener opens a Store per test on a temp dir and a namespace of its own; a second call for
// the same test reopens both.
func opener(c kubernetes.Interface) storetest.Opener {
	var (
		mu     sync.Mutex
		opened = map[*testing.T]storage{}
	)
	return func(t *testing.T) store.Store {
		t.Helper()
		mu.Lock()
		st, ok := opened[t]
		if !ok {
			st = newStorage(t, c)
			opened[t] = st
		}
		mu.Unlock()
		return openStore(t, c, st)
	}
}

func newStorage(t *testing.T, c kubernetes.Interface) storage {
	t.Helper()
	st := storage{dir: t.TempDir(), namespace: kubetest.Namespace(t, c)}
	// Nothing finishes deleting the namespace on the test server: remove the Secrets, so that
	// thousands of them do not stay in the shared etcd.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := c.CoreV1().Secrets(st.namespace).DeleteCollection(ctx, metav1.DeleteOptions{},
			metav1.ListOptions{LabelSelector: kubestate.StateLabel + "=true"})
		if err != nil {
			t.Logf("delete the state Secrets in %s: %v", st.namespace, err)
		}
	})
	return st
}

func openStore(t *testing.T, c kubernetes.Interface, st storage) *kubestate.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	records, err := sqlite.OpenDir(ctx, st.dir)
	require.NoError(t, err)
	s, err := kubestate.New(ctx, kubestate.Options{Client: c, Namespace: st.namespace, Records: records})
	if err != nil {
		_ = records.Close()
	}
	require.NoError(t, err, "kubestate.New in %s", st.namespace)
	t.Cleanup(func() { _ = s.Close() })
	return s
}
