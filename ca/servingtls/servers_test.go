package servingtls_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// The way the control plane uses a Source: gRPC (h2 added by credentials.NewTLS) and net/http
// (h2 and http/1.1 added by ServeTLS) on one ServerConfig, clients trusting only CAPEM.
func TestServerConfigWithGRPCAndHTTP(t *testing.T) {
	s := newGenerated(t, openStore(t, t.TempDir()), "localhost", "127.0.0.1")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(s.ServerConfig())))
	healthpb.RegisterHealthServer(gs, health.NewServer())
	var wg sync.WaitGroup
	wg.Go(func() { _ = gs.Serve(ln) })
	t.Cleanup(func() { gs.Stop(); wg.Wait() })

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(clientConfig(t, s.CAPEM(), "localhost"))))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())

	hln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		TLSConfig:         s.ServerConfig(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	wg.Go(func() {
		if err := hs.ServeTLS(hln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	t.Cleanup(func() { _ = hs.Close() })
	for _, h2 := range []bool{true, false} {
		tr := &http.Transport{TLSClientConfig: clientConfig(t, s.CAPEM(), "127.0.0.1"), ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		r, err := c.Get("https://" + hln.Addr().String() + "/")
		require.NoError(t, err)
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		tr.CloseIdleConnections()
		assert.Equal(t, "ok", string(body))
		assert.Equal(t, map[bool]int{true: 2, false: 1}[h2], r.ProtoMajor)
	}
}

// Two Runs at once: one runs until its context ends, the other is refused at once.
func TestRunOnlyOnce(t *testing.T) {
	s := newGenerated(t, openStore(t, t.TempDir()), "localhost")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- s.Run(ctx) }()
	}
	select {
	case err := <-errs:
		require.ErrorContains(t, err, "already running")
	case <-time.After(5 * time.Second):
		t.Fatal("neither Run was refused")
	}
	cancel()
	select {
	case err := <-errs:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}
