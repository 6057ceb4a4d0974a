package dns

import (
	"time"

	mdns "github.com/miekg/dns"
)

// DefaultForwardTimeout bounds one attempt at one upstream; a client's own
// resolver usually gives up after 5s, so two dead upstreams still fit.
const DefaultForwardTimeout = 2 * time.Second

func (s *Server) forwarding() bool { return len(s.upstreams) > 0 }

// forward relays a query for a name outside the origin to each upstream in
// turn over the client's transport, returning the first reply. We never
// recurse ourselves.
func (s *Server) forward(w mdns.ResponseWriter, req *mdns.Msg, tcp bool, size int) int {
	if !s.forwarding() {
		return s.fail(w, req, mdns.RcodeRefused)
	}
	c := s.udpClient
	if tcp {
		c = s.tcpClient
	}
	out := req.Copy()
	// A fresh ID per hop so an off-path attacker cannot predict it from the
	// client's query.
	out.Id = mdns.Id()
	for _, up := range s.upstreams {
		start := time.Now()
		resp, _, err := c.Exchange(out, up)
		s.metrics.forwarded(tcp, err == nil, time.Since(start))
		if err != nil {
			s.log.Debug("dns forward failed", "upstream", up, "name", req.Question[0].Name, "error", err)
			continue
		}
		resp.Id = req.Id
		resp.Compress = true
		if !tcp {
			resp.Truncate(size)
		}
		_ = w.WriteMsg(resp)
		return resp.Rcode
	}
	s.log.Warn("dns forward: every upstream failed", "name", req.Question[0].Name, "upstreams", s.upstreams)
	return s.fail(w, req, mdns.RcodeServerFailure)
}
