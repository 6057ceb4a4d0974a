package controlplane

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// leaderStatus is what GET /leader says: who holds the singleton lease (read from the store
// now, so any replica answers alike) and what this replica believes.
type leaderStatus struct {
	Lease string `json:"lease"`
	// Replica is this process's holder id; Leader whether it holds the lease by its own count.
	Replica string `json:"replica"`
	Leader  bool   `json:"leader"`
	// Holder, Fence and Expires are the store's; Expired says the holder has not renewed in
	// time (it crashed, is paused, or cannot reach the store) and the lease is free to take.
	Holder  string    `json:"holder,omitempty"`
	Fence   int64     `json:"fence,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	Expired bool      `json:"expired,omitempty"`
	// Error is why the store could not be asked; the rest is then this replica's last view.
	Error string `json:"error,omitempty"`
	// RenewError is why this replica's last attempt to take or renew the lease failed.
	RenewError string `json:"renewError,omitempty"`
}

// registerLeader serves GET /leader on the diagnostics mux.
func (cp *ControlPlane) registerLeader(mux *http.ServeMux) {
	mux.HandleFunc("GET /leader", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(cp.leaderStatus(r.Context()))
	})
}

func (cp *ControlPlane) leaderStatus(ctx context.Context) leaderStatus {
	l := cp.lease
	_, leads := l.Leader()
	st := leaderStatus{Lease: singletonLease, Replica: l.id, Leader: leads}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	l.mu.Lock()
	last, renewErr := l.last, l.err
	l.mu.Unlock()
	if renewErr != nil {
		st.RenewError = renewErr.Error()
	}
	lease, err := l.leaser.GetLease(ctx, singletonLease)
	if err != nil {
		st.Error = err.Error()
		lease = last
	}
	st.Holder, st.Fence, st.Expires = lease.Holder, lease.Fence, lease.Expires
	st.Expired = lease.Holder != "" && !lease.Expires.After(lease.Now)
	return st
}
