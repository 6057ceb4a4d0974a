package dns

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// serveUDP reads one socket. Plain queries for zone names are answered inline
// from the precomputed replies, without unpacking the message or starting a
// goroutine; everything else (NXDOMAIN, forwarding, EDNS options we must
// look at, malformed input) goes through ServeDNS on its own goroutine,
// because forwarding blocks.
func (s *Server) serveUDP(pc *net.UDPConn) {
	defer s.wg.Done()
	in := make([]byte, mdns.DefaultMsgSize) // any query, EDNS padding included
	out := make([]byte, 0, mdns.DefaultMsgSize)
	for {
		n, from, err := pc.ReadFromUDPAddrPort(in)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP errors surfacing from an earlier write
		}
		if resp, ok := s.answerUDP(in[:n], from, out[:0]); ok {
			_, _ = pc.WriteToUDPAddrPort(resp, from)
			s.metrics.query(false, mdns.RcodeSuccess)
			continue
		}
		pkt := make([]byte, n)
		copy(pkt, in[:n])
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveUDPSlow(pc, pkt, from)
		}()
	}
}

// answerUDP is the fast path. It accepts only the common shape — one
// question of plain host-name labels, class IN, optionally one OPT of
// version 0 and nothing else — and a name present in the zone whose reply
// fits the client's buffer. Anything else returns ok=false.
func (s *Server) answerUDP(q []byte, from netip.AddrPort, out []byte) (resp []byte, ok bool) {
	if len(q) < 12+1+4 {
		return nil, false
	}
	// QR=0, opcode=QUERY, one question, no answers or authority, at most
	// one additional (the OPT).
	if q[2]&0xF8 != 0 || binary.BigEndian.Uint16(q[4:6]) != 1 ||
		binary.BigEndian.Uint16(q[6:8]) != 0 || binary.BigEndian.Uint16(q[8:10]) != 0 {
		return nil, false
	}
	arcount := binary.BigEndian.Uint16(q[10:12])
	if arcount > 1 {
		return nil, false
	}
	z := s.zone.Load()
	if z == nil {
		return nil, false
	}
	var lower [255]byte
	ln, p := 0, 12
	for {
		if p >= len(q) {
			return nil, false
		}
		l := int(q[p])
		if l == 0 {
			break
		}
		if l > 63 || p+1+l >= len(q) || ln+l+1 > len(lower) {
			return nil, false
		}
		for _, c := range q[p+1 : p+1+l] {
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return nil, false // escapes would be needed: let miekg handle it
			}
			lower[ln] = c
			ln++
		}
		lower[ln] = '.'
		ln++
		p += 1 + l
	}
	nameEnd := p + 1 // past the root label
	if ln == 0 || nameEnd+4 > len(q) {
		return nil, false
	}
	qtype := binary.BigEndian.Uint16(q[nameEnd : nameEnd+2])
	if binary.BigEndian.Uint16(q[nameEnd+2:nameEnd+4]) != mdns.ClassINET ||
		qtype == mdns.TypeAXFR || qtype == mdns.TypeIXFR || qtype == mdns.TypeOPT {
		return nil, false
	}
	size, edns, ok := parseOPT(q[nameEnd+4:], arcount)
	if !ok {
		return nil, false
	}
	name := lower[:ln]
	e := z.global[string(name)] // no allocation: the compiler special-cases this
	if e == nil {
		if string(name) == z.origin {
			e = z.apex
		} else {
			v, known := s.viewOfAddr(from.Addr())
			if e = z.views[v][string(name)]; e == nil {
				if e = z.globalENT[string(name)]; e == nil {
					if e = z.viewENT[v][string(name)]; e == nil && known {
						e = z.overrides[v][string(name)]
					}
				}
			}
		}
	}
	if e == nil {
		return nil, false
	}
	a := e.lookup(qtype)
	tmpl := a.wire
	if edns {
		tmpl = a.wireEDNS
	}
	if len(tmpl) > size || nameEnd+4 > len(tmpl) {
		return nil, false
	}
	out = append(out, tmpl...)
	copy(out[0:2], q[0:2])  // ID
	out[2] |= q[2] & flagRD // RD echoed
	out[3] |= q[3] & flagCD // CD echoed
	if s.forwarding() && s.allow.allows(from.Addr()) {
		out[3] |= flagRA
	}
	// Same name modulo case, so same wire length: echo the client's
	// spelling (0x20-randomising resolvers check it) and its query type.
	copy(out[12:nameEnd], q[12:nameEnd])
	binary.BigEndian.PutUint16(out[nameEnd:nameEnd+2], qtype)
	return out, true
}

// parseOPT reads what follows the question: nothing, or exactly one OPT RR
// of version 0 owned by the root. It returns the client's UDP size.
func parseOPT(b []byte, arcount uint16) (size int, edns bool, ok bool) {
	if arcount == 0 {
		return mdns.MinMsgSize, false, len(b) == 0
	}
	// root name(1) type(2) class=size(2) ext-rcode(1) version(1) flags(2) rdlen(2)
	if len(b) < 11 || b[0] != 0 || binary.BigEndian.Uint16(b[1:3]) != mdns.TypeOPT || b[6] != 0 {
		return 0, false, false
	}
	if rdlen := int(binary.BigEndian.Uint16(b[9:11])); len(b) != 11+rdlen {
		return 0, false, false
	}
	return max(int(binary.BigEndian.Uint16(b[3:5])), mdns.MinMsgSize), true, true
}

func (s *Server) serveUDPSlow(pc *net.UDPConn, pkt []byte, from netip.AddrPort) {
	w := &udpWriter{pc: pc, to: from}
	req := new(mdns.Msg)
	if err := req.Unpack(pkt); err != nil {
		// Like miekg's server: answer FORMERR only when the header says it
		// is a query, and never with more than the header (no amplification).
		if len(pkt) < 12 || pkt[2]&0x80 != 0 {
			return
		}
		hdr := []byte{pkt[0], pkt[1], 0x80 | pkt[2]&0x78, mdns.RcodeFormatError, 0, 0, 0, 0, 0, 0, 0, 0}
		_, _ = w.Write(hdr)
		s.metrics.query(false, mdns.RcodeFormatError)
		return
	}
	s.ServeDNS(w, req)
}

// udpWriter is the ResponseWriter of the slow path.
type udpWriter struct {
	pc *net.UDPConn
	to netip.AddrPort
}

func (w *udpWriter) LocalAddr() net.Addr  { return w.pc.LocalAddr() }
func (w *udpWriter) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(w.to) }
func (w *udpWriter) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
func (w *udpWriter) Write(b []byte) (int, error) { return w.pc.WriteToUDPAddrPort(b, w.to) }
func (w *udpWriter) Close() error                { return nil }
func (w *udpWriter) TsigStatus() error           { return nil }
func (w *udpWriter) TsigTimersOnly(bool)         {}
func (w *udpWriter) Hijack()                     {}
