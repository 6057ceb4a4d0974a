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
// recurse ourselves. Only clients on the allow list are forwarded; everyone
// else gets REFUSED, so the server cannot be used as an open resolver.
func (s *Server) forward(w mdns.ResponseWriter, req *mdns.Msg, tcp bool, size int) int {
	if !s.forwarding() {
		return s.fail(w, req, mdns.RcodeRefused)
	}
	if client := remoteAddr(w); !s.allow.allows(client) {
		s.metrics.forwardRefused(tcp)
		// Debug only: a flood of these is what an attack looks like, and the
		// log must not become its amplifier.
		s.log.Debug("dns forward refused: client not in the allow list", "client", client, "name", req.Question[0].Name)
		return s.fail(w, req, mdns.RcodeRefused)
	}
	out := req.Copy()
	// A fresh ID per hop so an off-path attacker cannot predict it from the
	// client's query.
	out.Id = mdns.Id()
	for _, up := range s.upstreams {
		start := time.Now()
		var resp *mdns.Msg
		var err error
		if tcp {
			resp, _, err = s.tcpClient.Exchange(out, up)
		} else {
			resp, err = s.exchangeUDP(out, up)
		}
		s.metrics.forwarded(tcp, err == nil, time.Since(start))
		if err != nil {
			s.log.Debug("dns forward failed", "upstream", up, "name", req.Question[0].Name, "error", err)
			continue
		}
		resp.Id = req.Id
		resp.Compress = true
		if !tcp {
			// An answer bigger than the client's buffer (512 bytes, or its
			// EDNS size) goes out with what fits and TC set, so the client
			// retries over TCP and gets all of it there (RFC 7766).
			resp.Truncate(size)
		}
		_ = w.WriteMsg(resp)
		return resp.Rcode
	}
	s.log.Warn("dns forward: every upstream failed", "name", req.Question[0].Name, "upstreams", s.upstreams)
	return s.fail(w, req, mdns.RcodeServerFailure)
}
