// Package connlimit bounds the connections a listener holds, in total and per client address,
// so that no client can take the file descriptors every other server of the process needs, and
// no client can starve another: at the total limit a newcomer from a lightly loaded address
// displaces the oldest connection of the most loaded one instead of being refused.
package connlimit

import (
	"net"
	"net/netip"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Options bound one listener. Zero means no limit.
type Options struct {
	// Name labels the metrics (`api`, `api-tls`, `xds`, ...).
	Name string
	// Max is the most connections open at once; PerAddress the most from one IP address.
	Max, PerAddress int
	// Metrics is where the listener's gauge and counters live; nil keeps them unregistered.
	Metrics *Metrics
}

// Listener wraps a net.Listener; its Accept never returns a connection that breaks a limit.
type Listener struct {
	net.Listener
	opts Options
	m    *Metrics

	mu     sync.Mutex
	total  int
	byAddr map[netip.Addr][]*conn // oldest first
}

// Wrap limits l.
func Wrap(l net.Listener, opts Options) *Listener {
	m := opts.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Listener{Listener: l, opts: opts, m: m, byAddr: map[netip.Addr][]*conn{}}
}

// Accept returns the next connection within the limits; connections beyond them are closed as
// soon as they are accepted, which costs the client one round trip and the process nothing.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if admitted := l.admit(c); admitted != nil {
			return admitted, nil
		}
	}
}

// Open is the number of connections held now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func (l *Listener) admit(c net.Conn) net.Conn {
	addr := remoteAddr(c)
	l.mu.Lock()
	if l.opts.PerAddress > 0 && len(l.byAddr[addr]) >= l.opts.PerAddress {
		l.mu.Unlock()
		l.refuse(c, "per_address")
		return nil
	}
	var evicted *conn
	if l.opts.Max > 0 && l.total >= l.opts.Max {
		evicted = l.displace(addr)
		if evicted == nil {
			l.mu.Unlock()
			l.refuse(c, "total")
			return nil
		}
	}
	tc := &conn{Conn: c, l: l, addr: addr}
	l.byAddr[addr] = append(l.byAddr[addr], tc)
	l.total++
	l.mu.Unlock()
	l.m.open.WithLabelValues(l.opts.Name).Inc()
	if evicted != nil {
		l.m.refused.WithLabelValues(l.opts.Name, "displaced").Inc()
		_ = evicted.Close()
	}
	return tc
}

// displace detaches the oldest connection of the address holding the most, if that address
// holds at least two more than the newcomer's (so two equally loaded clients do not take
// turns evicting each other). Called with l.mu held; the caller closes what it returns.
func (l *Listener) displace(newcomer netip.Addr) *conn {
	var heaviest netip.Addr
	most := 0
	for a, cs := range l.byAddr {
		if len(cs) > most || (len(cs) == most && a.Less(heaviest)) {
			heaviest, most = a, len(cs)
		}
	}
	if most < len(l.byAddr[newcomer])+2 {
		return nil
	}
	victim := l.byAddr[heaviest][0]
	l.forget(victim)
	return victim
}

// forget removes c from the books; it reports whether c was still on them. Called with l.mu
// held.
func (l *Listener) forget(c *conn) bool {
	cs := l.byAddr[c.addr]
	for i, x := range cs {
		if x != c {
			continue
		}
		cs = append(cs[:i:i], cs[i+1:]...)
		if len(cs) == 0 {
			delete(l.byAddr, c.addr)
		} else {
			l.byAddr[c.addr] = cs
		}
		l.total--
		l.m.open.WithLabelValues(l.opts.Name).Dec()
		return true
	}
	return false
}

func (l *Listener) refuse(c net.Conn, reason string) {
	l.m.refused.WithLabelValues(l.opts.Name, reason).Inc()
	_ = c.Close()
}

func (l *Listener) release(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget(c)
}

// conn gives its slot back when closed, whoever closes it.
type conn struct {
	net.Conn
	l    *Listener
	addr netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}

// remoteAddr is the client's IP; connections without one (unix sockets) share the zero Addr.
func remoteAddr(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// Metrics are shared by every limited listener of a process.
type Metrics struct {
	open    *prometheus.GaugeVec
	refused *prometheus.CounterVec
}

// NewMetrics registers the metrics on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshgate_listener_connections",
			Help: "Connections open on each limited listener.",
		}, []string{"listener"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshgate_listener_connections_refused_total",
			Help: "Connections closed by a listener's limits: per_address, total, or displaced (an older connection of the most loaded address closed to admit a newcomer).",
		}, []string{"listener", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.open, m.refused)
	}
	return m
}
