package dns

import (
	"fmt"

	mdns "github.com/miekg/dns"
)

// ednsSize is the UDP payload size we advertise: the DNS flag day 2020 value,
// which avoids IP fragmentation on every common path.
const ednsSize = 1232

// answer is one reply packed ahead of time with ID 0 and the name in lower
// case; the hot path patches ID, flags, the client's spelling of the name and
// the query type into a copy.
type answer struct {
	wire     []byte    // reply without an OPT record
	wireEDNS []byte    // the same reply with our OPT record, for EDNS clients
	msg      *mdns.Msg // unpacked form, for the rare reply that must be truncated
}

// entry holds the replies for one name in one view.
type entry struct {
	a, aaaa, any *answer
	soa          *answer // only at the apex
	nodata       *answer // every other type, with the query type patched in
}

func (e *entry) lookup(qtype uint16) *answer {
	var a *answer
	switch qtype {
	case mdns.TypeA:
		a = e.a
	case mdns.TypeAAAA:
		a = e.aaaa
	case mdns.TypeANY:
		a = e.any
	case mdns.TypeSOA:
		a = e.soa
	}
	if a == nil {
		return e.nodata
	}
	return a
}

// buildEntries builds the entries of recs; withSOA puts the origin's SOA into their
// negative answers, which is right for names of the zone only.
func (z *Zone) buildEntries(recs map[string]*Record, withSOA bool) (map[string]*entry, error) {
	out := make(map[string]*entry, len(recs))
	for name, r := range recs {
		e, err := z.buildEntry(r, withSOA)
		if err != nil {
			return nil, err
		}
		out[name] = e
	}
	return out, nil
}

func (z *Zone) buildEntry(r *Record, withSOA bool) (*entry, error) {
	hdr := func(t uint16) mdns.RR_Header {
		return mdns.RR_Header{Name: r.Name, Rrtype: t, Class: mdns.ClassINET, Ttl: z.ttl}
	}
	var as, aaaas []mdns.RR
	for _, ip := range r.A {
		as = append(as, &mdns.A{Hdr: hdr(mdns.TypeA), A: ip.AsSlice()})
	}
	for _, ip := range r.AAAA {
		aaaas = append(aaaas, &mdns.AAAA{Hdr: hdr(mdns.TypeAAAA), AAAA: ip.AsSlice()})
	}
	e := &entry{}
	var err error
	if e.nodata, err = z.pack(r.Name, mdns.TypeNone, nil, withSOA); err != nil {
		return nil, err
	}
	if len(as) > 0 {
		if e.a, err = z.pack(r.Name, mdns.TypeA, as, withSOA); err != nil {
			return nil, err
		}
	}
	if len(aaaas) > 0 {
		if e.aaaa, err = z.pack(r.Name, mdns.TypeAAAA, aaaas, withSOA); err != nil {
			return nil, err
		}
	}
	if all := append(as[:len(as):len(as)], aaaas...); len(all) > 0 {
		if e.any, err = z.pack(r.Name, mdns.TypeANY, all, withSOA); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (z *Zone) buildApex() (*entry, error) {
	e := &entry{}
	var err error
	if e.nodata, err = z.pack(z.origin, mdns.TypeNone, nil, true); err != nil {
		return nil, err
	}
	if e.soa, err = z.pack(z.origin, mdns.TypeSOA, []mdns.RR{z.soa}, true); err != nil {
		return nil, err
	}
	if e.any, err = z.pack(z.origin, mdns.TypeANY, []mdns.RR{z.soa}, true); err != nil {
		return nil, err
	}
	return e, nil
}

// pack builds an authoritative reply; without answers it is NODATA, which
// carries the SOA (withSOA) so resolvers can cache the negative answer (RFC 2308).
func (z *Zone) pack(name string, qtype uint16, rrs []mdns.RR, withSOA bool) (*answer, error) {
	m := &mdns.Msg{
		MsgHdr:   mdns.MsgHdr{Response: true, Authoritative: true, Opcode: mdns.OpcodeQuery},
		Compress: true,
		Question: []mdns.Question{{Name: name, Qtype: qtype, Qclass: mdns.ClassINET}},
		Answer:   rrs,
	}
	if len(rrs) == 0 && withSOA {
		m.Ns = []mdns.RR{z.soa}
	}
	wire, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("dns zone: packing %s %s: %w", name, mdns.TypeToString[qtype], err)
	}
	withOPT := m.Copy()
	withOPT.SetEdns0(ednsSize, false)
	wireEDNS, err := withOPT.Pack()
	if err != nil {
		return nil, fmt.Errorf("dns zone: packing %s %s with EDNS: %w", name, mdns.TypeToString[qtype], err)
	}
	return &answer{wire: wire, wireEDNS: wireEDNS, msg: m}, nil
}

// find returns the entry for a lower-case absolute name, or nil when the name
// does not exist for this view. The view is computed only when needed because
// ViewOf is the caller's code and may cost more than a map lookup; known is
// false when the client fell back to the default view, which gets no overrides.
func (z *Zone) find(name string, view func() (v string, known bool)) *entry {
	if e := z.global[name]; e != nil {
		return e
	}
	if name == z.origin {
		return z.apex
	}
	v, known := view()
	return z.inView(name, v, known)
}

// inView looks name up in what view v adds to the global names.
func (z *Zone) inView(name, v string, known bool) *entry {
	if e := z.views[v][name]; e != nil {
		return e
	}
	if e := z.globalENT[name]; e != nil {
		return e
	}
	if e := z.viewENT[v][name]; e != nil {
		return e
	}
	if known {
		return z.overrides[v][name]
	}
	return nil
}
