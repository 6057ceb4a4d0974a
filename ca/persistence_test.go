package ca_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

func TestBuiltinRootSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mesh := meshWith("default", builtin("ca-1", nil))

	st, err := sqlite.OpenDir(ctx, dir)
	require.NoError(t, err)
	m, err := ca.New(st, ca.Options{})
	require.NoError(t, err)
	a, err := m.For(ctx, mesh)
	require.NoError(t, err)
	before := bundleOf(t, a)
	old := issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}})
	require.NoError(t, st.Close())

	// The root and key live in the state table under ca/<mesh>/<backend>.
	st = openStore(t, dir)
	raw, _, err := st.GetState(ctx, "ca/default/ca-1")
	require.NoError(t, err)
	var state map[string]string
	require.NoError(t, json.Unmarshal(raw, &state))
	assert.Contains(t, state["cert"], "BEGIN CERTIFICATE")
	assert.Contains(t, state["key"], "BEGIN PRIVATE KEY")

	m, err = ca.New(st, ca.Options{})
	require.NoError(t, err)
	a, err = m.For(ctx, mesh)
	require.NoError(t, err)
	after := bundleOf(t, a)
	assert.True(t, before.Equal(after), "same root after a restart")

	// Leaves from before the restart still verify, and new ones chain to the same root.
	verifyBoth(t, after, old)
	verifyBoth(t, before, issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}}))
}

// Two control planes on one database, starting at once, must end up with one root.
func TestConcurrentFirstUseAgreesOnOneRoot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const planes = 2
	const meshes = 4
	managers := make([]*ca.Manager, planes)
	for i := range managers {
		m, err := ca.New(openStore(t, dir), ca.Options{})
		require.NoError(t, err)
		managers[i] = m
	}
	roots := make([][]string, planes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, planes*meshes)
	for i, m := range managers {
		roots[i] = make([]string, meshes)
		wg.Go(func() {
			<-start
			for j := range meshes {
				a, err := m.For(ctx, meshWith(meshName(j), builtin("ca-1", nil)))
				if err != nil {
					errs <- err
					return
				}
				b, err := a.Bundle(ctx)
				if err != nil {
					errs <- err
					return
				}
				pem, err := certs.BundlePEM(b)
				if err != nil {
					errs <- err
					return
				}
				roots[i][j] = string(pem)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for j := range meshes {
		assert.Equal(t, roots[0][j], roots[1][j], "mesh %s has two roots", meshName(j))
	}
}

func meshName(i int) string { return string(rune('a'+i)) + "-mesh" }

// racingStore lets another control plane create the root between this one's read and write,
// so that the lost race is exercised every time, not only when the scheduler allows.
type racingStore struct {
	store.Store
	once  sync.Once
	other func()
}

func (s *racingStore) PutState(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	s.once.Do(s.other)
	return s.Store.PutState(ctx, key, value, expected)
}

func TestLostCreateRaceAdoptsWinnersRoot(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	mesh := meshWith("default", builtin("ca-1", nil))
	var winner []byte
	loserStore := &racingStore{Store: st, other: func() {
		m, err := ca.New(st, ca.Options{})
		require.NoError(t, err)
		a, err := m.For(ctx, mesh)
		require.NoError(t, err)
		winner, err = certs.BundlePEM(bundleOf(t, a))
		require.NoError(t, err)
	}}
	m, err := ca.New(loserStore, ca.Options{})
	require.NoError(t, err)
	a, err := m.For(ctx, mesh)
	require.NoError(t, err)
	got, err := certs.BundlePEM(bundleOf(t, a))
	require.NoError(t, err)
	require.NotEmpty(t, winner)
	assert.Equal(t, string(winner), string(got))
	verifyBoth(t, bundleOf(t, a), issue(t, a, ca.IssueRequest{Mesh: "default", Services: []string{"web"}}))
}
