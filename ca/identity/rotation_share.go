package identity

// ShareRate makes the re-issue pacing (RotationOptions.Rate and Burst) a budget of the whole
// cluster rather than of each process: with n replicas on one store, each serving its own
// dataplanes, each re-issues at Rate/n with a burst of Burst/n (at least one), so together
// they stay within the configured rate. Replicas learn n from their leases (a live lease per
// replica) and call this when it changes; a lone process keeps n = 1, the full rate.
//
// Splitting is chosen over a token bucket kept in the store because the bucket is consulted
// for every dataplane of every rebuild: a store round trip there would put the database on
// the rendering path, and a shared bucket would let one replica's backlog starve another's.
func (i *Service) ShareRate(n int) {
	n = max(n, 1)
	burst := max(i.opts.Burst/n, 1)
	i.mu.Lock()
	defer i.mu.Unlock()
	i.limiter.resize(i.opts.Rate/float64(n), burst)
}

// resize changes the rate and burst, keeping no more tokens than the new burst.
func (b *tokenBucket) resize(rate float64, burst int) {
	b.rate, b.burst = rate, float64(max(burst, 1))
	b.tokens = min(b.tokens, b.burst)
}
