package dns

import (
	"encoding/binary"
	"net"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// Header flag bits patched into precomputed replies (RFC 1035 §4.1.1).
const (
	flagRD = 0x01 // byte 2
	flagRA = 0x80 // byte 3
	flagCD = 0x10 // byte 3
)

// ServeDNS answers one query. It implements miekg/dns.Handler so the server
// can be tested and benchmarked without sockets.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	tcp := isTCP(w)
	rcode := s.handle(w, req, tcp)
	if rcode >= 0 {
		s.metrics.query(tcp, rcode)
	}
}

// handle writes the reply and returns its rcode, or -1 when nothing was sent.
func (s *Server) handle(w mdns.ResponseWriter, req *mdns.Msg, tcp bool) int {
	if req.Response {
		return -1 // never answer answers: that is how reflection loops start
	}
	if req.Opcode != mdns.OpcodeQuery {
		return s.fail(w, req, mdns.RcodeNotImplemented)
	}
	if len(req.Question) != 1 {
		return s.fail(w, req, mdns.RcodeFormatError)
	}
	opt := req.IsEdns0()
	if opt != nil && opt.Version() != 0 {
		return s.fail(w, req, mdns.RcodeBadVers)
	}
	z := s.zone.Load()
	if z == nil {
		// No table yet: SERVFAIL makes clients retry rather than cache a
		// negative answer for a name that is about to exist.
		return s.fail(w, req, mdns.RcodeServerFailure)
	}
	q := req.Question[0]
	name := lowerASCII(q.Name)
	e := z.find(name, func() (string, bool) { return s.viewOf(w) })
	if e == nil && !mdns.IsSubDomain(z.origin, name) {
		return s.forward(w, req, tcp, maxSize(opt, tcp))
	}
	if q.Qclass != mdns.ClassINET || q.Qtype == mdns.TypeAXFR || q.Qtype == mdns.TypeIXFR {
		return s.fail(w, req, mdns.RcodeRefused)
	}
	if e == nil {
		return s.nxdomain(w, req, z, opt != nil)
	}
	s.writeAnswer(w, req, e.lookup(q.Qtype), opt != nil, maxSize(opt, tcp))
	return mdns.RcodeSuccess
}

// writeAnswer is the hot path: copy the packed reply and patch the query's
// ID, flags, name spelling (so 0x20-randomising resolvers accept it) and type.
func (s *Server) writeAnswer(w mdns.ResponseWriter, req *mdns.Msg, a *answer, edns bool, size int) {
	tmpl := a.wire
	if edns {
		tmpl = a.wireEDNS
	}
	if len(tmpl) > size {
		s.writeTruncated(w, req, a, edns, size)
		return
	}
	buf := make([]byte, len(tmpl))
	copy(buf, tmpl)
	binary.BigEndian.PutUint16(buf[0:2], req.Id)
	if req.RecursionDesired {
		buf[2] |= flagRD
	}
	if s.recursionFor(w) {
		buf[3] |= flagRA
	}
	if req.CheckingDisabled {
		buf[3] |= flagCD
	}
	q := req.Question[0]
	// The name matched a zone name case-insensitively and zone names have no
	// escapes, so its wire form has the same label lengths as the template's.
	p, name := 12, q.Name
	for p < len(buf) && buf[p] != 0 && len(name) > 0 {
		l := int(buf[p])
		if p+1+l > len(buf) || l > len(name) {
			break
		}
		copy(buf[p+1:p+1+l], name[:l])
		p += 1 + l
		name = name[min(l+1, len(name)):]
	}
	if p+3 <= len(buf) && buf[p] == 0 {
		binary.BigEndian.PutUint16(buf[p+1:p+3], q.Qtype)
	}
	_, _ = w.Write(buf) // the client is gone; nothing to do about it
}

// writeTruncated sends as much of the answer as fits with TC set, so the
// client retries over TCP (RFC 7766).
func (s *Server) writeTruncated(w mdns.ResponseWriter, req *mdns.Msg, a *answer, edns bool, size int) {
	m := a.msg.Copy()
	m.Id = req.Id
	m.RecursionDesired = req.RecursionDesired
	m.RecursionAvailable = s.recursionFor(w)
	m.CheckingDisabled = req.CheckingDisabled
	m.Question = []mdns.Question{req.Question[0]}
	if edns {
		m.SetEdns0(ednsSize, false)
	}
	m.Truncate(size)
	m.Truncated = true
	_ = w.WriteMsg(m)
}

func (s *Server) nxdomain(w mdns.ResponseWriter, req *mdns.Msg, z *Zone, edns bool) int {
	m := new(mdns.Msg)
	m.SetRcode(req, mdns.RcodeNameError)
	m.Authoritative = true
	m.RecursionAvailable = s.recursionFor(w)
	m.Ns = []mdns.RR{z.soa}
	m.Compress = true
	if edns {
		m.SetEdns0(ednsSize, false)
	}
	_ = w.WriteMsg(m)
	return mdns.RcodeNameError
}

func (s *Server) fail(w mdns.ResponseWriter, req *mdns.Msg, rcode int) int {
	m := new(mdns.Msg)
	m.SetRcode(req, rcode)
	m.RecursionAvailable = s.recursionFor(w)
	if req.IsEdns0() != nil {
		m.SetEdns0(ednsSize, false)
	}
	if m.Rcode > 0xF && m.IsEdns0() == nil {
		m.SetEdns0(ednsSize, false) // extended rcodes live in the OPT record
	}
	_ = w.WriteMsg(m)
	return rcode
}

func (s *Server) viewOf(w mdns.ResponseWriter) (view string, known bool) {
	return s.viewOfAddr(remoteAddr(w))
}

// viewOfAddr is the client's view; known is false when ViewOf did not name one and the
// client got DefaultView.
func (s *Server) viewOfAddr(ip netip.Addr) (view string, known bool) {
	if s.opts.ViewOf == nil {
		return s.opts.DefaultView, false
	}
	// Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d.
	if v := s.opts.ViewOf(ip.Unmap()); v != "" {
		return v, true
	}
	return s.opts.DefaultView, false
}

// maxSize is the largest reply the client accepts (RFC 6891 §6.2.5).
func maxSize(opt *mdns.OPT, tcp bool) int {
	if tcp {
		return mdns.MaxMsgSize
	}
	if opt == nil {
		return mdns.MinMsgSize
	}
	return max(int(opt.UDPSize()), mdns.MinMsgSize)
}

func isTCP(w mdns.ResponseWriter) bool {
	_, ok := w.LocalAddr().(*net.TCPAddr)
	return ok
}

// lowerASCII lower-cases without allocating when the name already is.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return s
}
