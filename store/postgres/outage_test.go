package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

// tcpProxy forwards one loopback address to the database, and can cut every connection and
// refuse new ones, as a stopped server does, then listen again on the same address.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop closes the listener and every forwarded connection.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// While the server cannot be reached every operation fails with store.ErrUnavailable (so the
// API answers 503, not 500); when it can again, the store recovers without being reopened, and
// its watchers hear the current revision again so that a reading that failed meanwhile is
// made again.
func TestUnreachableServer(t *testing.T) {
	db := freshDatabase(t)
	u, err := url.Parse(db)
	require.NoError(t, err)
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	s := openStore(t, u.String())
	ctx := context.Background()
	ch, err := s.Watch(ctx)
	require.NoError(t, err)
	before := mustApply(t, s, store.Key{Kind: "Mesh", Name: "before"})
	receiveAtLeast(t, ch, before.Revision)

	proxy.stop()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.ErrorIs(t, s.Ping(short), store.ErrUnavailable)
	_, err = s.Get(short, store.Key{Kind: "Mesh", Name: "before"})
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.Apply(short, store.ApplyRequest{Puts: []store.Put{{Key: store.Key{Kind: "Mesh", Name: "during"}, Spec: []byte(`{}`)}}})
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, _, err = s.GetState(short, "k")
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.PutState(short, "k", []byte("v"), 0)
	require.ErrorIs(t, err, store.ErrUnavailable)
	_, err = s.All(short)
	require.ErrorIs(t, err, store.ErrUnavailable)
	// Drain what the watcher holds: from here on only the reconnect announces anything.
	select {
	case <-ch:
	default:
	}

	proxy.start()
	require.Eventually(t, func() bool { return s.Ping(ctx) == nil }, 10*time.Second, 50*time.Millisecond, "store never recovered")
	select {
	case rev, ok := <-ch:
		require.True(t, ok, "watch closed")
		assert.Equal(t, before.Revision, rev, "the reconnected listener announces the current revision again")
	case <-time.After(20 * time.Second):
		t.Fatal("the listener never announced the revision after reconnecting")
	}
	after := mustApply(t, s, store.Key{Kind: "Mesh", Name: "after"})
	receiveAtLeast(t, ch, after.Revision)
	_, err = s.Get(ctx, store.Key{Kind: "Mesh", Name: "during"})
	require.True(t, errors.Is(err, store.ErrNotFound), "a write refused during the outage must not appear: %v", err)
}

// Ping measures the server, not the pool: with every pooled connection busy (a write waiting
// for a lock another process holds), it still answers at once.
func TestPingIgnoresABusyPool(t *testing.T) {
	db := freshDatabase(t)
	u, err := url.Parse(db)
	require.NoError(t, err)
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	s := openStore(t, u.String())
	ctx := context.Background()

	other, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // released at the end of the test
	_, err = tx.Exec(ctx, `SELECT value FROM revision WHERE id = 1 FOR UPDATE`)
	require.NoError(t, err)

	applied := make(chan error, 1)
	go func() {
		_, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{Key: store.Key{Kind: "Mesh", Name: "m"}, Spec: []byte(`{}`)}}})
		applied <- err
	}()
	// The write holds the pool's only connection, waiting for the lock.
	require.Eventually(t, func() bool {
		var waiting int
		_ = other.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = $1`, u.Path[1:]).Scan(&waiting)
		return waiting == 1
	}, 10*time.Second, 20*time.Millisecond, "the write never waited for the lock")

	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	require.NoError(t, s.Ping(short), "a busy pool is not an unreachable server")
	require.NoError(t, tx.Rollback(ctx))
	select {
	case err := <-applied:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the write never completed after the lock was released")
	}
}
