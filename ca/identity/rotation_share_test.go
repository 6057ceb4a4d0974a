package identity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// With n replicas each takes a share of the rate and the burst, so the cluster re-issues no
// faster than one process alone would.
func TestShareRateSplitsTheBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	i := &Service{opts: RotationOptions{Rate: 30, Burst: 10}, limiter: newTokenBucket(30, 10)}
	taken := func(b *tokenBucket, over time.Duration) int {
		n := 0
		for at := now; at.Before(now.Add(over)); at = at.Add(time.Millisecond) {
			for b.take(at) {
				n++
			}
		}
		return n
	}
	i.ShareRate(3)
	assert.Equal(t, 10.0, i.limiter.rate)
	assert.Equal(t, 3.0, i.limiter.burst)
	// Three replicas over 10 s: 3 × (burst 3 + 10/s × 10 s) ≤ one process's 10 + 30/s × 10 s.
	got := taken(i.limiter, 10*time.Second)
	assert.InDelta(t, 3+100, got, 1)
	assert.LessOrEqual(t, 3*got, 10+300+3)

	i.ShareRate(0) // no count yet: the full rate
	assert.Equal(t, 30.0, i.limiter.rate)
	assert.Equal(t, 10.0, i.limiter.burst)
	i.ShareRate(50) // more replicas than the burst: each keeps one
	assert.Equal(t, 1.0, i.limiter.burst)
	assert.LessOrEqual(t, i.limiter.tokens, 1.0)
}
