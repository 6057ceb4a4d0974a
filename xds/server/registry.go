package server

import "sync"

// registry is the server's shared view of nodes: the versions set for each, its open streams
// (so ClearSnapshot can end them) and the per-type status Nodes reports. Streams keep their
// protocol state (nonces, parked versions) to themselves; only what others read lives here.
type registry struct {
	mu    sync.Mutex
	nodes map[string]*nodeEntry
}

type nodeEntry struct {
	versions map[string]string // nil when no snapshot is set
	streams  map[*stream]struct{}
	types    map[string]*TypeStatus
}

func newRegistry() *registry {
	return &registry{nodes: map[string]*nodeEntry{}}
}

// entry returns the node's entry, creating it; r.mu must be held.
func (r *registry) entry(node string) *nodeEntry {
	n := r.nodes[node]
	if n == nil {
		n = &nodeEntry{streams: map[*stream]struct{}{}, types: map[string]*TypeStatus{}}
		r.nodes[node] = n
	}
	return n
}

// forget drops an entry nothing refers to any more; r.mu must be held.
func (r *registry) forget(node string, n *nodeEntry) {
	if n.versions == nil && len(n.streams) == 0 {
		delete(r.nodes, node)
	}
}

// attach adds a stream to its node and reports whether it is the node's first.
func (r *registry) attach(node string, st *stream) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.entry(node)
	n.streams[st] = struct{}{}
	return len(n.streams) == 1
}

// detach removes a stream from its node and reports whether it was the node's last.
func (r *registry) detach(node string, st *stream) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodes[node]
	if n == nil {
		return false
	}
	if _, ok := n.streams[st]; !ok {
		return false
	}
	delete(n.streams, st)
	r.forget(node, n)
	return len(n.streams) == 0
}

// connected reports whether the node has an open, admitted stream.
func (r *registry) connected(node string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodes[node]
	return n != nil && len(n.streams) > 0
}

func (r *registry) setVersions(node string, versions map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entry(node).versions = versions
}

// clear forgets the node's snapshot and returns its open streams.
func (r *registry) clear(node string) []*stream {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodes[node]
	if n == nil {
		return nil
	}
	n.versions = nil
	out := make([]*stream, 0, len(n.streams))
	for st := range n.streams {
		out = append(out, st)
	}
	r.forget(node, n)
	return out
}

// update applies f to the node's status for one type.
func (r *registry) update(node, typeURL string, f func(*TypeStatus)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.entry(node)
	ts := n.types[typeURL]
	if ts == nil {
		ts = &TypeStatus{TypeURL: typeURL}
		n.types[typeURL] = ts
	}
	f(ts)
}

// streamRef is an open stream and the node it was admitted as.
type streamRef struct {
	st   *stream
	node string
}

// streams returns every open stream that has been admitted.
func (r *registry) streams() []streamRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []streamRef
	for node, n := range r.nodes {
		for st := range n.streams {
			out = append(out, streamRef{st: st, node: node})
		}
	}
	return out
}
