package identity

import (
	"math"
	"time"
)

// tokenBucket caps how fast leaves are re-issued after a CA switch. It takes the time from its
// caller rather than a clock, so tests drive it with a fake one and the identity cache keeps
// one notion of "now". Not safe for concurrent use: identities serialises access.
type tokenBucket struct {
	// rate is tokens per second; 0 or less disables the limit.
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int) *tokenBucket {
	b := float64(burst)
	if b < 1 {
		b = 1
	}
	return &tokenBucket{rate: rate, burst: b, tokens: b}
}

func (b *tokenBucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.last = now
		return
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
}

// take spends one token if there is one.
func (b *tokenBucket) take(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// full is when the bucket will hold a whole burst again. Waking then rather than at the next
// single token turns a backlog into one rebuild per burst instead of one per token.
func (b *tokenBucket) full(now time.Time) time.Time {
	if b.rate <= 0 {
		return now
	}
	b.refill(now)
	missing := b.burst - b.tokens
	if missing <= 0 {
		return now
	}
	return now.Add(time.Duration(math.Ceil(missing / b.rate * float64(time.Second))))
}
