package identity

import "time"

// RotationOptions tune how a mesh moves its dataplanes to a new CA backend.
type RotationOptions struct {
	// Rate caps the leaves re-issued per second because their backend is no longer the enabled
	// one (renewals and new dataplanes are not counted); 0 or less lifts the cap.
	Rate float64
	// Burst is how many such re-issues may happen at once; at least one.
	Burst int
	// Jitter spreads each dataplane's re-issue over a window this long, so a fleet does not
	// renew in lockstep. Capped at a tenth of the leaf's lifetime: spreading wider than the
	// renewal period would only delay what renewal does anyway.
	Jitter time.Duration
	// Settle is how long a bundle change is given to reach every dataplane before anything
	// depends on it: leaves from a new root wait that long, and a retiring root stays that long
	// after its last leaf was replaced. Capped at a twentieth of the leaf's lifetime.
	Settle time.Duration
	// Tick is the shortest wait between the rebuilds rotation schedules: re-issue times are
	// rounded up to it, so 10,000 jittered dataplanes cost window/Tick rebuilds, not 10,000.
	Tick time.Duration
}

// DefaultRotationOptions move 10,000 dataplanes in a few minutes (50 per second ≈ 200 s)
// while keeping CA load and reconnect storms small.
func DefaultRotationOptions() RotationOptions {
	return RotationOptions{Rate: 50, Burst: 50, Jitter: 2 * time.Minute, Settle: 30 * time.Second, Tick: time.Second}
}

// settleFor and windowFor scale the delays to a leaf's lifetime (see the fields).
func (o RotationOptions) settleFor(life time.Duration) time.Duration { return min(o.Settle, life/20) }
func (o RotationOptions) windowFor(life time.Duration) time.Duration { return min(o.Jitter, life/10) }

// roundUp rounds d up to a multiple of Tick.
func (o RotationOptions) roundUp(d time.Duration) time.Duration {
	if o.Tick <= 0 || d%o.Tick == 0 {
		return d
	}
	return (d/o.Tick + 1) * o.Tick
}
