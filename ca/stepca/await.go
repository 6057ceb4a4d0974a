package stepca

import (
	"context"
	"fmt"
)

// await runs f and returns early when ctx ends. stepcas takes no context for setup or
// signing, so this is how Sign and New honour cancellation; the abandoned call still ends on
// its own, bounded by the step client's request timeout (15 s).
func await[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: the goroutine must not block once nobody waits
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("gave up waiting: %w", context.Cause(ctx))
	}
}
