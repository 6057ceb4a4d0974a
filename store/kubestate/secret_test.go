package kubestate_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshgate/meshgate/kube/meta"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/kubestate"
	"github.com/meshgate/meshgate/test/kubetest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestSecretsLabelled: every entry is one Secret that `kubectl get secrets -l
// meshgate.io/state=true` lists, naming its key; a deleted entry's Secret is gone.
func TestSecretsLabelled(t *testing.T) {
	c := kubetest.Client(t)
	st := newStorage(t, c)
	s := openStore(t, c, st)
	ctx := testCtx(t)

	keys := []string{"ca/default/root", "vip/allocations", "token/signing-key", "gone"}
	versions := map[string]int64{}
	for _, k := range keys {
		v, err := s.PutState(ctx, k, []byte("value of "+k), 0)
		require.NoError(t, err)
		versions[k] = v
	}
	v, err := s.PutState(ctx, "ca/default/root", []byte("value of ca/default/root"), versions["ca/default/root"])
	require.NoError(t, err)
	versions["ca/default/root"] = v
	require.NoError(t, s.DeleteState(ctx, "gone", 0))
	delete(versions, "gone")
	// Another Secret in the namespace is not state, and is left alone.
	_, err = c.CoreV1().Secrets(st.namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "not-state", Labels: map[string]string{meta.ManagedByLabel: meta.ManagedByValue}},
		StringData: map[string]string{"x": "y"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	list, err := c.CoreV1().Secrets(st.namespace).List(ctx, metav1.ListOptions{LabelSelector: "meshgate.io/state=true"})
	require.NoError(t, err)
	got := map[string]int64{}
	for _, sec := range list.Items {
		k := sec.Annotations["meshgate.io/state-key"]
		assert.Equal(t, kubestate.SecretName(k), sec.Name, k)
		assert.Equal(t, meta.ManagedByValue, sec.Labels["app.kubernetes.io/managed-by"], k)
		assert.Equal(t, corev1.SecretType("meshgate.io/state"), sec.Type, k)
		assert.Equal(t, []byte("value of "+k), sec.Data["value"], k)
		assert.Equal(t, fmt.Sprint(versions[k]), sec.Annotations["meshgate.io/state-version"], k)
		got[k] = versions[k]
	}
	assert.Equal(t, versions, got, "one Secret per entry, none for the deleted one")
	_, err = c.CoreV1().Secrets(st.namespace).Get(ctx, kubestate.SecretName("gone"), metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the deleted entry's Secret: %v", err)
	_, err = c.CoreV1().Secrets(st.namespace).Get(ctx, "not-state", metav1.GetOptions{})
	require.NoError(t, err)
}

// TestSecretNames: names are valid object names whatever the key holds, and differ by key.
func TestSecretNames(t *testing.T) {
	seen := map[string]string{}
	for _, k := range []string{"a", "A", "ca/default/root", "ca/default/root ", "ünïcode/キー", string(bytes.Repeat([]byte("k"), 10000))} {
		name := kubestate.SecretName(k)
		assert.Regexp(t, `^meshgate-state-[0-9a-f]{64}$`, name, "%q", k)
		assert.Equal(t, name, kubestate.SecretName(k), "stable")
		prev, dup := seen[name]
		assert.False(t, dup, "%q and %q share %s", prev, k, name)
		seen[name] = k
	}
}

// TestValueTooLarge: a value over what a Secret holds is refused naming the key, before any
// write of its batch; a value of exactly the limit is stored (the API server agrees on it).
func TestValueTooLarge(t *testing.T) {
	c := kubetest.Client(t)
	s := openStore(t, c, newStorage(t, c))
	ctx := testCtx(t)

	big := bytes.Repeat([]byte{0xa5}, kubestate.MaxValueSize+1)
	_, err := s.PutState(ctx, "ca/huge", big, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"ca/huge"`)
	assert.Contains(t, err.Error(), "Secret")
	assert.NotErrorIs(t, err, store.ErrConflict)
	assert.NotErrorIs(t, err, store.ErrUnavailable)

	_, err = s.PutStates(ctx, []store.StateWrite{
		{Key: "a/small", Value: []byte("x"), ExpectedVersion: -1},
		{Key: "z/huge", Value: big},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"z/huge"`)
	_, _, err = s.GetState(ctx, "a/small")
	require.ErrorIs(t, err, store.ErrNotFound, "nothing of a batch with a value too large is written")

	limit := big[:kubestate.MaxValueSize]
	v, err := s.PutState(ctx, "ca/limit", limit, -1)
	require.NoError(t, err, "a value of exactly %d bytes", kubestate.MaxValueSize)
	got, gotV, err := s.GetState(ctx, "ca/limit")
	require.NoError(t, err)
	assert.True(t, bytes.Equal(limit, got), "the value read back")
	assert.Equal(t, v, gotV)
}
