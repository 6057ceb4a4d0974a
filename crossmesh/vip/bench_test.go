package vip

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkSync is one rebuild of a large installation: 10,000 names, one of them replaced.
func BenchmarkSync(b *testing.B) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := newAlloc(b, openStore(b, b.TempDir()), Options{Now: clk.Now})
	const n = 10_000
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = Key{Mesh: fmt.Sprintf("mesh-%d", i%10), Name: fmt.Sprintf("svc-%d.mesh", i)}
	}
	if _, err := a.Sync(ctx, keys); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		keys[i%n] = Key{Name: fmt.Sprintf("changed-%d.example.com", i)}
		// Past the quarantine, so released addresses do not pile up over b.N iterations.
		clk.Add(2 * DefaultQuarantine)
		got, err := a.Sync(ctx, keys)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != n {
			b.Fatalf("got %d keys, want %d", len(got), n)
		}
	}
}

// BenchmarkSyncUnchanged is the common rebuild: nothing to allocate, so nothing is written.
func BenchmarkSyncUnchanged(b *testing.B) {
	ctx := context.Background()
	a := newAlloc(b, openStore(b, b.TempDir()), Options{})
	keys := make([]Key, 10_000)
	for i := range keys {
		keys[i] = Key{Mesh: fmt.Sprintf("mesh-%d", i%10), Name: fmt.Sprintf("svc-%d.mesh", i)}
	}
	if _, err := a.Sync(ctx, keys); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Sync(ctx, keys); err != nil {
			b.Fatal(err)
		}
	}
}
