package ca_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
)

type zoneEnv struct {
	global *ca.Manager
	gstore interface {
		GetState(ctx context.Context, key string) ([]byte, int64, error)
	}
	signed atomic.Int32
	down   atomic.Bool
}

func (e *zoneEnv) zone(t *testing.T, name, dir string, now func() time.Time) *ca.Manager {
	t.Helper()
	m, err := ca.New(openStore(t, dir), ca.Options{Now: now, ZoneIntermediates: func(ctx context.Context, mesh, backend string, csr []byte) ([]byte, error) {
		if e.down.Load() {
			return nil, errors.New("global unreachable")
		}
		e.signed.Add(1)
		return e.global.SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: meshWith(mesh, builtin(backend, nil)), Backend: backend, Zone: name, CSRPEM: csr})
	}})
	require.NoError(t, err)
	return m
}

func TestZoneBuiltinLeavesVerifyAndRootKeyStaysOnGlobal(t *testing.T) {
	ctx := context.Background()
	gdir := t.TempDir()
	gst := openStore(t, gdir)
	g, err := ca.New(gst, ca.Options{})
	require.NoError(t, err)
	env := &zoneEnv{global: g, gstore: gst}
	dir1, dir2 := t.TempDir(), t.TempDir()
	z1 := env.zone(t, "zone-1", dir1, nil)
	z2 := env.zone(t, "zone-2", dir2, nil)
	mesh := meshWith("zm", builtin("ca-1", nil))

	a1, err := z1.For(ctx, mesh)
	require.NoError(t, err)
	a2, err := z2.For(ctx, mesh)
	require.NoError(t, err)
	ga, err := g.For(ctx, mesh)
	require.NoError(t, err)
	meshBundle := bundleOf(t, ga) // the root only
	require.Len(t, meshBundle.X509Authorities(), 1)
	for _, a := range []ca.Authority{a1, a2} {
		is := issue(t, a, ca.IssueRequest{Mesh: "zm", Services: []string{"web"}})
		require.Len(t, is.intermediates, 1, "the zone intermediate goes out after the leaf")
		verifyBoth(t, meshBundle, is)
	}
	require.NotEqual(t, 0, issue(t, a1, ca.IssueRequest{Mesh: "zm", Services: []string{"web"}}).intermediates[0].SerialNumber.Cmp(
		issue(t, a2, ca.IssueRequest{Mesh: "zm", Services: []string{"web"}}).intermediates[0].SerialNumber))
	require.EqualValues(t, 2, env.signed.Load())

	// The root key is in global's state and in no file of either zone's store.
	val, _, err := gst.GetState(ctx, "ca/zm/ca-1")
	require.NoError(t, err)
	var st struct{ Key string }
	require.NoError(t, json.Unmarshal(val, &st))
	lines := strings.Split(strings.TrimSpace(st.Key), "\n")
	require.Greater(t, len(lines), 2)
	needle := []byte(lines[1]) // a base64 line of the root's private key
	inDir := func(dir string) bool {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		require.NoError(t, err)
		for _, f := range files {
			if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, needle) {
				return true
			}
		}
		return false
	}
	require.True(t, inDir(gdir), "the scan finds the root key in global's store files")
	for _, dir := range []string{dir1, dir2} {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			require.False(t, bytes.Contains(data, needle), "root key bytes in %s", f)
		}
	}

	// A zone restart (a new Manager on the same store) reuses the stored intermediate.
	z1b := env.zone(t, "zone-1", dir1, nil)
	_, err = z1b.For(ctx, mesh)
	require.NoError(t, err)
	require.EqualValues(t, 2, env.signed.Load(), "a restarted zone signed again")
}

func TestZoneBuiltinUnreachableGlobalAndRenewal(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	gst := openStore(t, t.TempDir())
	g, err := ca.New(gst, ca.Options{Now: now})
	require.NoError(t, err)
	env := &zoneEnv{global: g, gstore: gst}
	dir := t.TempDir()
	mesh := meshWith("zu", builtin("ca-1", nil))

	env.down.Store(true)
	_, err = env.zone(t, "zone-1", dir, now).For(ctx, mesh)
	require.ErrorContains(t, err, "until this zone reaches global once")
	env.down.Store(false)

	first := issue(t, must(env.zone(t, "zone-1", dir, now).For(ctx, mesh)), ca.IssueRequest{Mesh: "zu", Services: []string{"web"}})
	// Past 2/3 of the intermediate's year, a new zone Manager (a restart) renews it.
	offset.Store(int64(250 * 24 * time.Hour))
	second := issue(t, must(env.zone(t, "zone-1", dir, now).For(ctx, mesh)), ca.IssueRequest{Mesh: "zu", Services: []string{"web"}})
	require.NotEqual(t, 0, first.intermediates[0].SerialNumber.Cmp(second.intermediates[0].SerialNumber))
	require.EqualValues(t, 2, env.signed.Load())

	// A root change on global (here: the mesh re-created on global, so a new root) reaches the
	// zone at its next signing.
	g2, err := ca.New(openStore(t, t.TempDir()), ca.Options{Now: now})
	require.NoError(t, err)
	env.global = g2
	offset.Store(int64(500 * 24 * time.Hour))
	third := issue(t, must(env.zone(t, "zone-1", dir, now).For(ctx, mesh)), ca.IssueRequest{Mesh: "zu", Services: []string{"web"}})
	root2 := bundleOf(t, must(g2.For(ctx, mesh))).X509Authorities()[0]
	require.NoError(t, third.intermediates[0].CheckSignatureFrom(root2))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestZoneBuiltinRenewsWithoutRestart: a running zone (one Manager, the mesh unchanged) asks
// global for a new intermediate once 2/3 of the current one's life has passed; if global is
// unreachable then, it keeps issuing from the current one and renews when global is back.
func TestZoneBuiltinRenewsWithoutRestart(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	gst := openStore(t, t.TempDir())
	g, err := ca.New(gst, ca.Options{Now: now})
	require.NoError(t, err)
	env := &zoneEnv{global: g, gstore: gst}
	mesh := meshWith("zr", builtin("ca-1", nil))
	zone := env.zone(t, "zone-1", t.TempDir(), now)
	req := ca.IssueRequest{Mesh: "zr", Services: []string{"web"}}

	first := issue(t, must(zone.For(ctx, mesh)), req)
	offset.Store(int64(100 * 24 * time.Hour))
	require.Zero(t, first.intermediates[0].SerialNumber.Cmp(issue(t, must(zone.For(ctx, mesh)), req).intermediates[0].SerialNumber),
		"before 2/3 of its life the intermediate is kept")

	offset.Store(int64(250 * 24 * time.Hour))
	env.down.Store(true)
	kept := issue(t, must(zone.For(ctx, mesh)), req)
	require.Zero(t, first.intermediates[0].SerialNumber.Cmp(kept.intermediates[0].SerialNumber), "global down: the current intermediate keeps issuing")
	env.down.Store(false)
	renewed := issue(t, must(zone.For(ctx, mesh)), req)
	require.NotZero(t, first.intermediates[0].SerialNumber.Cmp(renewed.intermediates[0].SerialNumber), "renewed without a restart or a mesh change")
	require.EqualValues(t, 2, env.signed.Load())
}
