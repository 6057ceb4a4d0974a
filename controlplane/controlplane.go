package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/ca/servingtls"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/store"
	xdsserver "github.com/meshgate/meshgate/xds/server"
)

// ControlPlane is one running meshgate.
type ControlPlane struct {
	// consoleRenders caches the console's gateway renderings per rebuild (consolecache.go).
	consoleRenders gatewayRenders
	cfg            Config
	log            *slog.Logger
	store          store.Store
	xds            *xdsserver.Server
	tokens         *tokens.Issuer
	registry       *prometheus.Registry
	rec            *reconciler
	files          *fileSync
	dns            *meshDNS
	// lease is the singleton lease this replica holds or follows (lease.go).
	lease *leaseRunner

	xdsLis, apiLis, apiTLSLis, diagLis, kdsLis net.Listener
	// serving is the certificate xDS and the HTTPS API present.
	serving  *servingtls.Source
	exposure exposure

	readyOnce sync.Once
	ready     chan struct{}
	// health probes the store; /ready is 503 while it does not answer (storehealth.go).
	health *storeHealth
	// kube is set in Kubernetes mode (kube.go).
	kube *kubeMode
	// mode is ModeStandalone, ModeGlobal or ModeZone (zones.go); mz is the sync with the other
	// side (multizone.go).
	mode string
	mz   *multiZone
	ids  *identity.Service
}

// Addrs are the addresses the control plane actually listens on (ports resolved). APITLS is
// empty when the HTTPS API is not served.
type Addrs struct {
	XDS, API, APITLS, Diag, DNS string
	// KDS is where zones connect (global mode only).
	KDS string
}

// New opens the store and binds every listener, so that a port already in use or a
// non-writable data dir fails here, before anything runs.
func New(ctx context.Context, cfg Config) (_ *ControlPlane, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	if err := cfg.Limits.validate(); err != nil {
		return nil, err
	}
	ex, notice, err := checkExposure(cfg)
	if err != nil {
		return nil, err
	}
	if notice != "" {
		cfg.Logger.Info(notice)
	}
	cp := &ControlPlane{cfg: cfg, log: cfg.Logger, registry: prometheus.NewRegistry(), ready: make(chan struct{}), exposure: ex}
	defer func() {
		if err != nil {
			cp.closeListeners()
			if cp.store != nil {
				_ = cp.store.Close()
			}
		}
	}()
	env, err := cfg.environment()
	if err != nil {
		return nil, err
	}
	if cp.mode, err = cfg.mode(); err != nil {
		return nil, err
	}
	if env == EnvironmentKubernetes {
		if cp.kube, err = newKubeMode(cfg.Kube); err != nil {
			return nil, err
		}
	}
	var raw store.Store
	if cp.kube != nil && cfg.StoreURL == "" {
		raw, err = cp.kube.openStore(ctx, cfg.DataDir, cfg.Logger)
	} else {
		raw, err = openStore(ctx, cfg.StoreURL, cfg.DataDir)
	}
	if err != nil {
		return nil, err
	}
	metered, err := newMeteredStore(raw, cp.registry)
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	cp.store = metered
	if cp.health, err = newStoreHealth(raw, cfg.StoreURL, cfg.DataDir, cp.registry, cfg.Logger); err != nil {
		return nil, err
	}
	m := newMetrics(cp.registry)
	singleton, err := cp.singletonStore(raw)
	if err != nil {
		return nil, err
	}
	// Only the lease holder prunes expired token revocations.
	cp.tokens = tokens.New(cp.store, tokens.Options{Logger: cfg.Logger, Meshes: meshLookup(cp.store), Pruner: singleton})
	auth, err := cp.xdsAuthenticator()
	if err != nil {
		return nil, err
	}
	present := newPresence()
	if cp.xds, err = xdsserver.New(xdsserver.Options{Logger: cfg.Logger, Registerer: cp.registry, Authenticate: auth,
		FirstRequestTimeout: cfg.Limits.XDSFirstRequestTimeout, OnPresence: present.mark}); err != nil {
		return nil, err
	}
	if cp.serving, err = servingtls.New(ctx, servingtls.Options{
		Store: cp.store, SANs: servingSANs(cfg.TLS), CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile,
		Registerer: cp.registry, Logger: cfg.Logger,
	}); err != nil {
		return nil, err
	}
	rotation := cfg.Rotation
	if rotation == (identity.RotationOptions{}) {
		rotation = identity.DefaultRotationOptions()
	}
	// Before the identities: on a zone they get their CA intermediates through the sync.
	if err := cp.setUpMultiZone(); err != nil {
		return nil, err
	}
	ids, err := identity.New(identity.Config{Store: cp.store, Rotation: rotation, Log: cfg.Logger, Now: time.Now,
		ZoneIntermediates: cp.zoneIntermediates()})
	if err != nil {
		return nil, err
	}
	if cp.dns, err = newMeshDNS(cfg.DNS, cp.store, cp.registry, cfg.Logger); err != nil {
		return nil, err
	}
	cp.ids = ids
	if cp.mode == ModeZone {
		// Consumers here also route to other zones' services, through their ingresses.
		cfg.Build.Zone = cfg.MultiZone.Zone
	}
	cp.rec = &reconciler{store: cp.store, sink: cp.xds, opts: cfg.Build, log: cfg.Logger, onRun: m.observeRebuild, ids: ids,
		onModel: cp.onModel, onRender: m.observeRender, presence: present}
	cp.rec.keys = newMeshKeys(cp.store, cp.tokens, ids, cp.xds, cfg.XDSAuth, cp.registry, cfg.Logger)
	if err := cp.setUpLease(); err != nil {
		return nil, err
	}
	if cfg.ResourcesDir != "" {
		cp.files = &fileSync{dir: cfg.ResourcesDir, store: cp.store, log: cfg.Logger, writable: writable(cp.kube != nil, cp.mode, cfg.MultiZone.Zone)}
	}
	if cp.kube != nil {
		if err := cp.setUpKube(); err != nil {
			return nil, err
		}
	}
	raiseFileLimit(cfg.Limits, ex.apiTLS, cfg.Logger)
	if err := cp.listen(); err != nil {
		return nil, err
	}
	// The DNS sockets live until Run shuts down (or New fails), not as long as ctx.
	if err := cp.dns.server.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("DNS on %s: %w", cfg.DNS.Address, err)
	}
	return cp, nil
}

// Addrs reports the bound addresses.
func (cp *ControlPlane) Addrs() Addrs {
	udp, _ := cp.dns.server.Addr()
	a := Addrs{XDS: cp.xdsLis.Addr().String(), API: cp.apiLis.Addr().String(), Diag: cp.diagLis.Addr().String(), DNS: udp}
	if cp.apiTLSLis != nil {
		a.APITLS = cp.apiTLSLis.Addr().String()
	}
	if cp.kdsLis != nil {
		a.KDS = cp.kdsLis.Addr().String()
	}
	return a
}

// Ready is closed once the first configuration has been built and published.
func (cp *ControlPlane) Ready() <-chan struct{} { return cp.ready }

// Run serves until ctx is cancelled, then shuts down gracefully: it stops accepting, lets
// in-flight API requests finish, ends xDS streams and closes the store.
func (cp *ControlPlane) Run(ctx context.Context) error {
	defer cp.store.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if cp.files != nil {
		// Load the files before serving, so the first configuration already holds them; a bad
		// directory at start is fatal, since there is no last good state to keep.
		if err := cp.files.sync(ctx); err != nil {
			return fmt.Errorf("loading %s: %w", cp.cfg.ResourcesDir, err)
		}
	}

	grpcServer := grpc.NewServer(append(cp.cfg.Limits.grpcOptions(), cp.xdsCredentials())...)
	cp.xds.Register(grpcServer)
	api := cp.withInspectAPI(cp.withZonesAPI(cp.withKubeWebhook(cp.withKubeBootstrapAPI(cp.withControlPlaneCAAPI(cp.withCAAPI(cp.withBundleAPI(cp.withIdentityAPI(cp.withTokenAPI(cp.withExplainAPI(cp.apiHandler()))))))))))
	apiServer := cp.cfg.Limits.apiServer(api)
	apiTLSServer := cp.cfg.Limits.apiServer(api)
	apiTLSServer.TLSConfig = cp.serving.ServerConfig()
	diagServer := cp.cfg.Limits.apiServer(cp.diagHandler())

	errc := make(chan error, 16)
	var wg sync.WaitGroup
	spawn := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	spawn("xDS server", func() error { return ignoreClosed(grpcServer.Serve(cp.xdsLis)) })
	spawn("API server", func() error { return ignoreClosed(apiServer.Serve(cp.apiLis)) })
	if cp.apiTLSLis != nil {
		spawn("HTTPS API server", func() error { return ignoreClosed(apiTLSServer.ServeTLS(cp.apiTLSLis, "", "")) })
	}
	spawn("serving certificate", func() error { return cp.serving.Run(ctx) })
	spawn("diagnostics server", func() error { return ignoreClosed(diagServer.Serve(cp.diagLis)) })
	spawn("store health check", func() error { return cp.health.run(ctx) })
	cp.startLease(ctx, spawn)
	if cp.kube != nil {
		cp.startKube(ctx, spawn)
	}
	stopKDS := cp.runMultiZone(ctx, spawn)
	spawn("reconciler", func() error {
		if cp.kube != nil {
			// The first configuration must already hold the cluster's resources.
			select {
			case <-cp.kube.source.Synced():
			case <-ctx.Done():
				return nil
			}
		}
		return cp.rec.run(ctx, cp.cfg.Debounce, func() { cp.readyOnce.Do(func() { close(cp.ready) }) })
	})
	if cp.files != nil {
		spawn("resource file watcher", func() error { return cp.files.watch(ctx, cp.cfg.Debounce) })
	}
	a := cp.Addrs()
	cp.log.Info("meshgate running", "xds", a.XDS, "api", a.API, "diagnostics", a.Diag, "dns", a.DNS, "apiTLS", a.APITLS, "xdsTLS", !cp.cfg.TLS.XDSInsecure, "mode", cp.mode, "kds", a.KDS)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		cp.log.Error("stopping", "error", runErr)
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	cp.dns.server.Close()
	_ = apiServer.Shutdown(shutdownCtx)
	_ = apiTLSServer.Shutdown(shutdownCtx)
	_ = diagServer.Shutdown(shutdownCtx)
	// xDS streams never end by themselves; end them so GracefulStop can return.
	cp.xds.Close()
	stopKDS()
	stopped := make(chan struct{})
	go func() { grpcServer.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-shutdownCtx.Done():
		grpcServer.Stop()
	}
	wg.Wait()
	cp.log.Info("meshgate stopped")
	return runErr
}

func (cp *ControlPlane) closeListeners() {
	if cp.dns != nil && cp.dns.server != nil {
		cp.dns.server.Close()
	}
	for _, l := range []net.Listener{cp.xdsLis, cp.apiLis, cp.apiTLSLis, cp.diagLis, cp.kdsLis} {
		if l != nil {
			_ = l.Close()
		}
	}
}

func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}
