package server

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// NodeStatus is what the server knows of one dataplane: the snapshot set for it and, per
// resource type, what its streams were sent and what they accepted or rejected.
type NodeStatus struct {
	Node string `json:"node"`
	// Streams counts the node's open xDS streams (normally one).
	Streams int `json:"streams"`
	// Versions maps each type URL of the node's snapshot to its version; nil when no snapshot
	// is set.
	Versions map[string]string `json:"versions,omitempty"`
	// Types holds one entry per type URL sent to the node, ordered by TypeURL.
	Types []TypeStatus `json:"types,omitempty"`
}

// TypeStatus is the exchange of one resource type with one node, across its streams.
type TypeStatus struct {
	TypeURL      string    `json:"typeUrl"`
	SentVersion  string    `json:"sentVersion,omitempty"`
	SentAt       time.Time `json:"sentAt,omitzero"`
	AckedVersion string    `json:"ackedVersion,omitempty"`
	AckedAt      time.Time `json:"ackedAt,omitzero"`
	// Rejected is set while the newest response of this type is NACKed and nothing newer has
	// been sent: the node runs on AckedVersion.
	Rejected bool `json:"rejected,omitempty"`
	// LastNACK is the most recent rejection, kept after later versions are accepted.
	LastNACK *NACK `json:"lastNack,omitempty"`
}

// NACK is one rejection, with Envoy's explanation (error_detail.message).
type NACK struct {
	Version string    `json:"version"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Nodes reports every node that has a snapshot or an open stream, ordered by node id.
func (s *Server) Nodes() []NodeStatus {
	return s.registry.report()
}

func (r *registry) report() []NodeStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]NodeStatus, 0, len(r.nodes))
	for id, n := range r.nodes {
		st := NodeStatus{Node: id, Streams: len(n.streams), Versions: maps.Clone(n.versions)}
		for _, ts := range n.types {
			c := *ts
			if ts.LastNACK != nil {
				nack := *ts.LastNACK
				c.LastNACK = &nack
			}
			st.Types = append(st.Types, c)
		}
		slices.SortFunc(st.Types, func(a, b TypeStatus) int { return strings.Compare(a.TypeURL, b.TypeURL) })
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b NodeStatus) int { return strings.Compare(a.Node, b.Node) })
	return out
}
