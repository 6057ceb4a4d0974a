package vip

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
)

// clock is a fake time source tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newAlloc(t testing.TB, st store.Store, opts Options) *Allocator {
	t.Helper()
	a, err := NewAllocator(st, opts)
	require.NoError(t, err)
	return a
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestSyncUniqueAcrossMeshes(t *testing.T) {
	a := newAlloc(t, openStore(t, t.TempDir()), Options{})
	keys := []Key{{Mesh: "b", Name: "web.mesh"}, {Mesh: "a", Name: "web.mesh"}, {Name: "api.example.com"}}
	got, err := a.Sync(context.Background(), keys)
	require.NoError(t, err)
	// Sorted key order: global names first, then by mesh; the network address is skipped.
	assert.Equal(t, map[Key]VIPs{
		{Name: "api.example.com"}:     {V4: addr("240.0.0.1")},
		{Mesh: "a", Name: "web.mesh"}: {V4: addr("240.0.0.2")},
		{Mesh: "b", Name: "web.mesh"}: {V4: addr("240.0.0.3")},
	}, got)
}

func TestSyncKeepsExistingAndStableAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	a := newAlloc(t, st, Options{})
	first, err := a.Sync(ctx, []Key{{Name: "b.mesh"}, {Name: "c.mesh"}})
	require.NoError(t, err)
	// A new key sorting before the others must not shift them.
	second, err := a.Sync(ctx, []Key{{Name: "a.mesh"}, {Name: "b.mesh"}, {Name: "c.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, first[Key{Name: "b.mesh"}], second[Key{Name: "b.mesh"}])
	assert.Equal(t, first[Key{Name: "c.mesh"}], second[Key{Name: "c.mesh"}])
	assert.Equal(t, addr("240.0.0.3"), second[Key{Name: "a.mesh"}].V4)
	require.NoError(t, st.Close())

	// A restart: a new store handle on the same directory and a new allocator.
	reopened := newAlloc(t, openStore(t, dir), Options{})
	again, err := reopened.Sync(ctx, []Key{{Name: "c.mesh"}, {Name: "a.mesh"}, {Name: "b.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, second, again)
}

func TestSyncUnchangedDoesNotWrite(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	a := newAlloc(t, st, Options{})
	_, err := a.Sync(ctx, []Key{{Name: "a.mesh"}})
	require.NoError(t, err)
	_, v1, err := st.GetState(ctx, StateKey)
	require.NoError(t, err)
	_, err = a.Sync(ctx, []Key{{Name: "a.mesh"}})
	require.NoError(t, err)
	_, v2, err := st.GetState(ctx, StateKey)
	require.NoError(t, err)
	assert.Equal(t, v1, v2)
}

func TestSyncQuarantine(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := newAlloc(t, openStore(t, t.TempDir()), Options{Now: clk.Now, Quarantine: time.Minute})

	got, err := a.Sync(ctx, []Key{{Name: "old.mesh"}})
	require.NoError(t, err)
	freed := got[Key{Name: "old.mesh"}].V4
	require.Equal(t, addr("240.0.0.1"), freed)

	// old.mesh goes away; inside the quarantine its address goes to nobody else.
	got, err = a.Sync(ctx, []Key{{Name: "new.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, addr("240.0.0.2"), got[Key{Name: "new.mesh"}].V4)

	clk.Add(59 * time.Second)
	got, err = a.Sync(ctx, []Key{{Name: "new.mesh"}, {Name: "other.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, addr("240.0.0.3"), got[Key{Name: "other.mesh"}].V4)

	// After the period it is the lowest free address again.
	clk.Add(time.Second)
	got, err = a.Sync(ctx, []Key{{Name: "new.mesh"}, {Name: "other.mesh"}, {Name: "third.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, freed, got[Key{Name: "third.mesh"}].V4)
}

func TestSyncReturningKeyGetsItsAddressBack(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := newAlloc(t, openStore(t, t.TempDir()), Options{Now: clk.Now})
	first, err := a.Sync(ctx, []Key{{Name: "a.mesh"}, {Name: "b.mesh"}})
	require.NoError(t, err)
	_, err = a.Sync(ctx, []Key{{Name: "b.mesh"}})
	require.NoError(t, err)
	clk.Add(10 * time.Second)
	back, err := a.Sync(ctx, []Key{{Name: "a.mesh"}, {Name: "b.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, first, back)
}

func TestSyncExhausted(t *testing.T) {
	tests := []struct {
		name    string
		keys    int
		wantErr string
	}{
		// A /30 has two usable addresses: not the network one, not the broadcast one.
		{name: "fits", keys: 2},
		{name: "one too many", keys: 3, wantErr: `vip: no free IPv4 address in 10.0.0.0/30 for "k2" (3 names, 0 in quarantine): address range exhausted`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, openStore(t, t.TempDir()), Options{CIDR4: netip.MustParsePrefix("10.0.0.0/30")})
			var keys []Key
			for i := range tt.keys {
				keys = append(keys, Key{Name: fmt.Sprintf("k%d", i)})
			}
			got, err := a.Sync(context.Background(), keys)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrExhausted)
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, addr("10.0.0.1"), got[Key{Name: "k0"}].V4)
			assert.Equal(t, addr("10.0.0.2"), got[Key{Name: "k1"}].V4)
		})
	}
}

func TestSyncConcurrentAllocatorsConverge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Two control planes: separate store handles on one database, as after two starts.
	stores := []store.Store{openStore(t, dir), openStore(t, dir)}
	var keys []Key
	for i := range 200 {
		keys = append(keys, Key{Mesh: fmt.Sprintf("m%d", i%3), Name: fmt.Sprintf("svc-%d.mesh", i)})
	}
	results := make([]map[Key]VIPs, 4)
	var wg sync.WaitGroup
	for i := range results {
		a := newAlloc(t, stores[i%2], Options{})
		wg.Go(func() {
			got, err := a.Sync(ctx, keys)
			assert.NoError(t, err)
			results[i] = got
		})
	}
	wg.Wait()
	for i := 1; i < len(results); i++ {
		require.Equal(t, results[0], results[i])
	}
	seen := map[netip.Addr]bool{}
	for _, v := range results[0] {
		require.False(t, seen[v.V4], "address %s given twice", v.V4)
		seen[v.V4] = true
	}
	require.Len(t, seen, len(keys))
}

func TestSyncIPv6(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	a := newAlloc(t, st, Options{IPv6: true, CIDR6: netip.MustParsePrefix("fd00:1::/120")})
	got, err := a.Sync(ctx, []Key{{Name: "a.mesh"}, {Mesh: "m", Name: "b.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, map[Key]VIPs{
		{Name: "a.mesh"}:            {V4: addr("240.0.0.1"), V6: addr("fd00:1::1")},
		{Mesh: "m", Name: "b.mesh"}: {V4: addr("240.0.0.2"), V6: addr("fd00:1::2")},
	}, got)

	// Turning IPv6 off keeps the IPv4 addresses and drops the IPv6 ones.
	v4only := newAlloc(t, st, Options{})
	got, err = v4only.Sync(ctx, []Key{{Name: "a.mesh"}, {Mesh: "m", Name: "b.mesh"}})
	require.NoError(t, err)
	assert.Equal(t, VIPs{V4: addr("240.0.0.1")}, got[Key{Name: "a.mesh"}])
}

func TestNewAllocatorRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"v6 as CIDR4", Options{CIDR4: netip.MustParsePrefix("fd00::/64")}, "vip: CIDR4 fd00::/64 is not an IPv4 prefix"},
		{"CIDR4 too small", Options{CIDR4: netip.MustParsePrefix("10.0.0.0/31")}, "vip: CIDR4 10.0.0.0/31 is too small: it needs at least one address besides the network and broadcast addresses"},
		{"v4 as CIDR6", Options{CIDR6: netip.MustParsePrefix("10.0.0.0/8")}, "vip: CIDR6 10.0.0.0/8 is not an IPv6 prefix"},
		{"negative quarantine", Options{Quarantine: -time.Second}, "vip: quarantine -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAllocator(nil, tt.opts)
			assert.EqualError(t, err, tt.want)
		})
	}
}
