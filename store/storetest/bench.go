package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/meshgate/meshgate/store"
)

// BenchmarkApply measures committed transactions of one put and of ten puts.
func BenchmarkApply(b *testing.B, s store.Store) {
	ctx := context.Background()
	for _, size := range []int{1, 10} {
		b.Run(fmt.Sprintf("puts=%d", size), func(b *testing.B) {
			req := store.ApplyRequest{Puts: make([]store.Put, size)}
			i := 0
			for b.Loop() {
				for j := range req.Puts {
					k := key("MeshGateway", "default", fmt.Sprintf("gw-%d-%d", size, (i*size+j)%1000))
					req.Puts[j] = store.Put{Key: k, Spec: spec(k, "bench"), Origin: "api"}
				}
				i++
				if _, err := s.Apply(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
