package server

// Connected reports whether the node has an open stream that has been admitted.
func (s *Server) Connected(node string) bool {
	return s.registry.connected(node)
}

// Release forgets the snapshot of a node that has no open stream, so that a dataplane that went
// away costs nothing here; it returns false, and keeps the snapshot, when a stream is open. A
// stream attaches under the registry's lock, which is held from the check until the cache has
// forgotten the node: a stream that arrives meanwhile finds the node forgotten and waits for
// its next snapshot, instead of having its watches forgotten under it. A node that comes back
// is served the same versions again once rendered, so an Envoy that kept its configuration
// is sent nothing.
func (s *Server) Release(node string) bool {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	r := s.registry
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.nodes[node]; n != nil {
		if len(n.streams) > 0 {
			return false
		}
		n.versions = nil
		r.forget(node, n)
	}
	if _, ok := s.snaps[node]; ok {
		delete(s.snaps, node)
		s.cache.ClearSnapshot(node)
	}
	return true
}
