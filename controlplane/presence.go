package controlplane

import "sync"

// presence collects the nodes whose connection changed (the xDS server's OnPresence) for the
// reconciler's loop, which renders a node that connected and releases one that left. Marking
// never blocks the stream that connects; a node marked twice before the loop looks is looked at
// once, in its state by then.
type presence struct {
	mu     sync.Mutex
	nodes  map[string]bool
	signal chan struct{}
}

func newPresence() *presence {
	return &presence{nodes: map[string]bool{}, signal: make(chan struct{}, 1)}
}

func (p *presence) mark(node string) {
	p.mu.Lock()
	p.nodes[node] = true
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

// take returns the marked nodes and clears them.
func (p *presence) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.nodes))
	for n := range p.nodes {
		out = append(out, n)
	}
	clear(p.nodes)
	return out
}
