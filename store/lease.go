package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrFenced: a fenced write was refused because its lease is no longer held under that fence
// (it expired, another replica took it, or it was released). Nothing was written.
var ErrFenced = errors.New("lease not held: write fenced off")

// LeaseRequest asks for the lease Name on behalf of Holder for TTL, measured by the store's
// clock (PostgreSQL's now()), so that replicas' clocks need not agree.
type LeaseRequest struct {
	Name   string
	Holder string
	TTL    time.Duration
}

// Lease is the state of one lease as the store last saw it. Fence increases every time the
// lease changes hands (and when a holder takes it again after letting it expire), so a write
// carrying an older fence can be told apart from the current holder's.
type Lease struct {
	Name    string
	Holder  string
	Fence   int64
	Expires time.Time
	// Now is the store's clock when the lease was read: Expires is meaningful against it.
	Now time.Time
}

// Held reports whether holder holds the lease, by the store's clock at the time of reading.
func (l Lease) Held(holder string) bool {
	return l.Holder == holder && l.Expires.After(l.Now)
}

// Fence names the lease a write is made under. The store commits a fenced write only if, in
// the write's own transaction, Holder still holds lease Name at exactly Token and it has not
// expired.
type Fence struct {
	Name   string
	Holder string
	Token  int64
}

// FenceOf is the fence of l.
func FenceOf(l Lease) Fence { return Fence{Name: l.Name, Holder: l.Holder, Token: l.Fence} }

// Leaser is implemented by stores that hold leases for work that must happen once among
// several control planes on one store. Both stores implement it, so a single SQLite process
// runs the same code paths as a PostgreSQL replica (it simply always wins).
type Leaser interface {
	// AcquireLease takes the lease if it is free or expired, or extends it if req.Holder holds
	// it, in one atomic step. It returns the lease as it is afterwards, which is held by
	// another holder when it was not free: that is not an error.
	AcquireLease(ctx context.Context, req LeaseRequest) (Lease, error)
	// ReleaseLease ends the lease now if f is still current, so another holder need not wait
	// for it to expire. A lease no longer held under f is left alone (nil).
	ReleaseLease(ctx context.Context, f Fence) error
	// GetLease returns the lease's state; ErrNotFound when it was never taken.
	GetLease(ctx context.Context, name string) (Lease, error)
	// CountLeases counts the leases whose name begins with prefix and that are held now: with
	// a lease per replica, how many replicas are alive.
	CountLeases(ctx context.Context, prefix string) (int, error)
	// PutStatesFenced is PutStates, committed only if f is current (checked in the same
	// transaction, which keeps the lease from changing hands until it ends); ErrFenced
	// otherwise, with nothing written.
	PutStatesFenced(ctx context.Context, f Fence, writes []StateWrite) ([]int64, error)
}

// ValidateLease rejects unusable lease requests.
func ValidateLease(req LeaseRequest) error {
	switch {
	case req.Name == "":
		return errors.New("lease name is empty")
	case req.Holder == "":
		return fmt.Errorf("lease %q: holder is empty", req.Name)
	case req.TTL < time.Millisecond:
		return fmt.Errorf("lease %q: TTL %s is shorter than a millisecond", req.Name, req.TTL)
	}
	return nil
}
