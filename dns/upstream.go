package dns

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// udpReplyBuffers hold one upstream datagram of any size.
var udpReplyBuffers = sync.Pool{New: func() any { b := make([]byte, mdns.MaxMsgSize); return &b }}

// exchangeUDP sends q to upstream over UDP and returns its reply. Unlike
// miekg's Client, which reads into a buffer of the query's own EDNS size (or
// 512 bytes) and fails on anything longer, it reads a datagram of any size:
// an upstream that answers beyond the client's buffer is not a failure, its
// answer is truncated for the client afterwards.
func (s *Server) exchangeUDP(q *mdns.Msg, upstream string) (*mdns.Msg, error) {
	wire, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing the query: %w", err)
	}
	deadline := time.Now().Add(s.opts.ForwardTimeout)
	conn, err := net.DialTimeout("udp", upstream, s.opts.ForwardTimeout)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", upstream, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("setting the deadline: %w", err)
	}
	if _, err := conn.Write(wire); err != nil {
		return nil, fmt.Errorf("sending to %s: %w", upstream, err)
	}
	bp := udpReplyBuffers.Get().(*[]byte)
	defer udpReplyBuffers.Put(bp)
	buf := *bp
	// Bounded by the deadline: each read fails once it passes.
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("reading from %s: %w", upstream, err)
		}
		// A late reply to an earlier query that timed out, or a stray
		// datagram: not ours, keep waiting.
		if n < 12 || binary.BigEndian.Uint16(buf[0:2]) != q.Id || buf[2]&0x80 == 0 {
			continue
		}
		r := new(mdns.Msg)
		if err := r.Unpack(buf[:n]); err != nil {
			return nil, fmt.Errorf("reply from %s: %w", upstream, err)
		}
		if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, q.Question[0].Name) ||
			r.Question[0].Qtype != q.Question[0].Qtype {
			continue
		}
		return r, nil
	}
}
