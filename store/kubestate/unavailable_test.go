package kubestate_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/kubestate"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/test/kubetest"
)

// TestUnavailable: with the API server out of reach (a proxy in front of it, then stopped),
// state reads and writes fail with store.ErrUnavailable, naming what they were doing, and
// records, which are local, still work.
func TestUnavailable(t *testing.T) {
	cfg := kubetest.Config(t)
	c := kubetest.Client(t)
	st := newStorage(t, c)
	p := startProxy(t, cfg.Host)
	via := rest.CopyConfig(cfg)
	via.Host = "https://" + p.addr
	via.Timeout = 5 * time.Second
	pc, err := kubernetes.NewForConfig(via)
	require.NoError(t, err)
	s := openStore(t, pc, st)
	ctx := testCtx(t)
	v, err := s.PutState(ctx, "ca/default/root", []byte("k"), -1)
	require.NoError(t, err, "through the proxy")
	require.NoError(t, s.Ping(ctx))

	p.stop()
	err = s.Ping(ctx)
	require.ErrorIs(t, err, store.ErrUnavailable)
	assert.Contains(t, err.Error(), st.namespace)
	_, _, err = s.GetState(ctx, "ca/default/root")
	require.ErrorIs(t, err, store.ErrUnavailable)
	assert.Contains(t, err.Error(), `"ca/default/root"`)
	t.Logf("with the API server out of reach: %v", err)
	_, err = s.PutState(ctx, "ca/default/root", []byte("k2"), v)
	require.ErrorIs(t, err, store.ErrUnavailable)
	assert.NotErrorIs(t, err, store.ErrConflict)
	err = s.DeleteState(ctx, "ca/default/root", 0)
	require.ErrorIs(t, err, store.ErrUnavailable)
	snap, err := s.All(ctx)
	require.NoError(t, err, "records are in the local store")
	assert.Empty(t, snap.Records)

	records, err := sqlite.OpenDir(ctx, t.TempDir())
	require.NoError(t, err)
	defer records.Close()
	_, err = kubestate.New(ctx, kubestate.Options{Client: pc, Namespace: st.namespace, Records: records})
	require.ErrorIs(t, err, store.ErrUnavailable, "New checks that the API server answers")
	assert.Contains(t, err.Error(), st.namespace)

	// Through the real server again, the entry is as it was.
	got, gotV, err := openStore(t, c, storage{dir: t.TempDir(), namespace: st.namespace}).GetState(ctx, "ca/default/root")
	require.NoError(t, err)
	assert.Equal(t, "k", string(got))
	assert.Equal(t, v, gotV)
}

// proxy forwards TCP connections to the API server until stopped; then its port refuses them.
type proxy struct {
	addr    string
	ln      net.Listener
	mu      sync.Mutex
	conns   []net.Conn
	stopped bool
	once    sync.Once
}

func startProxy(t *testing.T, host string) *proxy {
	t.Helper()
	u, err := url.Parse(host)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(p.stop)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			if err != nil {
				in.Close()
				continue
			}
			if !p.track(in, out) {
				return
			}
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return p
}

// track remembers conns to close at stop; false (and closed) when stop came first.
func (p *proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

func (p *proxy) stop() {
	p.once.Do(func() {
		p.ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
		p.conns, p.stopped = nil, true
	})
}
