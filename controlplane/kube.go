package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshgate/meshgate/kube/gatewayinstance"
	"github.com/meshgate/meshgate/kube/source"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/kubestate"
	"github.com/meshgate/meshgate/store/sqlite"
)

// Environments `meshgate run --environment` accepts.
const (
	// EnvironmentUniversal: resources come from files and the API; the default.
	EnvironmentUniversal = "universal"
	// EnvironmentKubernetes: resources come from the cluster (Kuma's CRDs, pods, Services).
	EnvironmentKubernetes = "kubernetes"
)

// KubeConfig configures Kubernetes mode.
type KubeConfig struct {
	// Kubeconfig is the file to connect with; empty: $KUBECONFIG, else the in-cluster
	// ServiceAccount.
	Kubeconfig string
	// Namespace is meshgate's own: its state Secrets and Kuma's mesh Secrets live there.
	Namespace string
	// GatewayImage is the image of the gateway pods MeshGatewayInstances get.
	GatewayImage string
	// ControlPlaneAddress is what gateway pods dial (their `meshgate dataplane`): the HTTPS API
	// of this control plane through its Service. Empty: https://meshgate.<Namespace>.svc:5682.
	ControlPlaneAddress string
	// XDSAddress is the xDS address (host:port) put in the bootstraps pods get. Empty:
	// meshgate.<Namespace>.svc:5678.
	XDSAddress string
	// GatewayInstanceNamespace limits the MeshGatewayInstance controller to one namespace
	// ("" : every namespace).
	GatewayInstanceNamespace string
	// WebhookConfiguration is the ValidatingWebhookConfiguration whose caBundle meshgate keeps
	// set to the CA of its serving certificate ("" leaves webhooks alone).
	WebhookConfiguration string
}

// DefaultKubeNamespace is where `meshgate install control-plane` puts meshgate.
const DefaultKubeNamespace = "meshgate-system"

// kubeMode is what Kubernetes mode adds to a control plane.
type kubeMode struct {
	cfg       KubeConfig
	rest      *rest.Config
	client    kubernetes.Interface
	dyn       dynamic.Interface
	source    *source.Source
	instances *gatewayinstance.Controller
	// gateways feeds instances global's MeshGateways in a Kubernetes zone (kubezone.go).
	gateways *zoneGateways
}

func (cp *ControlPlane) kubernetes() bool { return cp.kube != nil }

// kubeRESTConfig finds the cluster the way kubectl does: the flag, then $KUBECONFIG, then the
// pod's ServiceAccount.
func kubeRESTConfig(path string) (*rest.Config, error) {
	if path == "" {
		path = os.Getenv("KUBECONFIG")
	}
	var (
		cfg *rest.Config
		err error
	)
	if path != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
		}
	} else {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no --kubeconfig, no KUBECONFIG and not in a pod: %w", err)
		}
	}
	// Informers list once and then watch; the few writes (status, Events, managed objects)
	// should not queue behind client-go's default 5 requests per second.
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "meshgate"
	return cfg, nil
}

func newKubeMode(cfg KubeConfig) (*kubeMode, error) {
	if cfg.Namespace == "" {
		cfg.Namespace = os.Getenv("POD_NAMESPACE")
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultKubeNamespace
	}
	if cfg.ControlPlaneAddress == "" {
		cfg.ControlPlaneAddress = fmt.Sprintf("https://meshgate.%s.svc:5682", cfg.Namespace)
	}
	if cfg.XDSAddress == "" {
		cfg.XDSAddress = fmt.Sprintf("meshgate.%s.svc:5678", cfg.Namespace)
	}
	rc, err := kubeRESTConfig(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	k := &kubeMode{cfg: cfg, rest: rc}
	if k.client, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if k.dyn, err = dynamic.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("kubernetes dynamic client: %w", err)
	}
	return k, nil
}

// openKubeStore keeps resources (the mirror of the cluster, rebuilt at every start) in the
// embedded store in dataDir and meshgate's own state in Secrets in its namespace.
func (k *kubeMode) openStore(ctx context.Context, dataDir string, log *slog.Logger) (store.Store, error) {
	records, err := sqlite.OpenDir(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	s, err := kubestate.New(ctx, kubestate.Options{Client: k.client, Namespace: k.cfg.Namespace, Records: records, Logger: log})
	if err != nil {
		_ = records.Close()
		return nil, err
	}
	return s, nil
}

func (cfg Config) environment() (string, error) {
	switch cfg.Environment {
	case "", EnvironmentUniversal:
		return EnvironmentUniversal, nil
	case EnvironmentKubernetes:
		if cfg.ResourcesDir != "" {
			return "", errors.New("--resources: in Kubernetes mode resources come from the cluster; apply them with kubectl")
		}
		return EnvironmentKubernetes, nil
	}
	return "", fmt.Errorf("--environment %q: want %q or %q", cfg.Environment, EnvironmentUniversal, EnvironmentKubernetes)
}

// setUpKube builds what Kubernetes mode runs, once the store exists.
func (cp *ControlPlane) setUpKube() error {
	src, err := source.New(source.Options{
		Client: cp.kube.client, Dynamic: cp.kube.dyn, Store: cp.store, Namespace: cp.kube.cfg.Namespace,
		Debounce: cp.cfg.Debounce, Zone: cp.kubeSourceZone(), Logger: cp.log.With("component", "kubernetes"),
	})
	if err != nil {
		return err
	}
	cp.kube.source = src
	ca := cp.serving.CAPEM()
	if len(ca) == 0 {
		return errors.New("--environment kubernetes: the serving certificate (--tls-cert-file) carries no CA, " +
			"and gateway pods need one to verify the control plane; give the whole chain or let meshgate issue its certificate")
	}
	var gateways gatewayinstance.Gateways // nil: the cluster's MeshGateways
	if cp.kubeZone() {
		cp.kube.gateways = newZoneGateways(cp.store, cp.log.With("component", "gateway-instances"))
		gateways = cp.kube.gateways
	}
	cp.kube.instances, err = gatewayinstance.New(gatewayinstance.Options{
		Client: cp.kube.client, Dynamic: cp.kube.dyn, Image: cp.kube.cfg.GatewayImage,
		ControlPlaneAddress: cp.kube.cfg.ControlPlaneAddress, ControlPlaneCA: ca,
		Namespace: cp.kube.cfg.GatewayInstanceNamespace, Gateways: gateways,
		Logger: cp.log.With("component", "gateway-instances"),
	})
	return err
}

// startKube starts the informers (and, on the lease holder, the controllers).
func (cp *ControlPlane) startKube(ctx context.Context, spawn func(string, func() error)) {
	spawn("kubernetes source", func() error { return cp.kube.source.Run(ctx) })
	spawn("MeshGatewayInstance controller", func() error { return cp.kube.instances.Run(ctx) })
	if cp.kube.gateways != nil {
		spawn("MeshGateways from global", func() error { return cp.kube.gateways.run(ctx) })
	}
	spawn("admission webhook caBundle", func() error { return cp.keepWebhookCA(ctx) })
}
