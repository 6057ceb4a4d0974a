package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/kube/meta"
)

// newDataplaneCmd is what kuma-dp is to Kuma, for pods: it fetches the pod's Envoy bootstrap
// from the control plane with the pod's ServiceAccount token, writes it, and becomes Envoy.
// The MeshGatewayInstance controller's Deployments run it with their environment set.
func newDataplaneCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataplane",
		Short: "Run a pod's data plane: fetch its Envoy bootstrap with the pod's ServiceAccount token, then run Envoy",
		Long: "Run a pod's data plane (what kuma-dp is to Kuma): fetch the pod's Envoy bootstrap from the control plane,\n" +
			"authenticated with the pod's ServiceAccount token, write it, and exec Envoy with it. Until the control plane\n" +
			"knows the pod as a Dataplane (it needs the pod's IP) the fetch is retried, up to --bootstrap-timeout.\n" +
			"Every flag defaults to the environment the MeshGatewayInstance controller sets in gateway pods.",
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	cpAddr := f.String("cp-address", os.Getenv(meta.EnvCPAddress), "control plane HTTPS API URL (env "+meta.EnvCPAddress+")")
	cpCA := f.String("cp-ca-file", "", "PEM CA that verifies the control plane (default: the PEM in env "+meta.EnvCPCA+")")
	pod := f.String("pod", os.Getenv(meta.EnvPodName), "this pod's name (env "+meta.EnvPodName+")")
	ns := f.String("namespace", os.Getenv(meta.EnvPodNamespace), "this pod's namespace (env "+meta.EnvPodNamespace+")")
	tokenFile := f.String("token-file", meta.ServiceAccountTokenFile, "the pod's ServiceAccount token")
	out := f.String("bootstrap-file", filepath.Join(os.TempDir(), "meshgate", "bootstrap.yaml"), "where the bootstrap is written (private: it holds the token)")
	envoy := f.String("envoy", "envoy", "Envoy binary, found on PATH")
	adminPort := f.Uint32("admin-port", 0, "Envoy admin port on 127.0.0.1 (default: the Dataplane's, else 9901)")
	only := f.Bool("bootstrap-only", false, "write the bootstrap and exit instead of running Envoy")
	timeout := f.Duration("bootstrap-timeout", 5*time.Minute, "how long to keep asking while the control plane does not know the pod yet")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *cpAddr == "" || *pod == "" || *ns == "" {
			return &exitError{code: 2, err: fmt.Errorf("--cp-address, --pod and --namespace are required (or env %s, %s, %s)",
				meta.EnvCPAddress, meta.EnvPodName, meta.EnvPodNamespace)}
		}
		caPEM := []byte(os.Getenv(meta.EnvCPCA))
		if *cpCA != "" {
			var err error
			if caPEM, err = os.ReadFile(*cpCA); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("--cp-ca-file: %w", err)}
			}
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		req := client.KubernetesBootstrapRequest{Pod: *pod, Namespace: *ns, AdminPort: *adminPort}
		data, err := fetchPodBootstrap(ctx, cmd, *cpAddr, caPEM, *tokenFile, req, *timeout)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
			return &exitError{code: 1, err: err}
		}
		if err := writeSecretFile(*out, data); err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "bootstrap for pod %s/%s written to %s\n", *ns, *pod, *out)
		if *only {
			return nil
		}
		path, err := exec.LookPath(*envoy)
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("--envoy %s: %w (the gateway image ships Envoy; elsewhere use --bootstrap-only)", *envoy, err)}
		}
		// Exec, not a child: Envoy gets the container's signals and its exit status is the pod's.
		return syscall.Exec(path, []string{path, "-c", *out, "--drain-time-s", "30"}, os.Environ())
	}
	return cmd
}

// fetchPodBootstrap asks until the control plane answers, or refuses for good (a wrong token).
// The token is re-read on every attempt: the kubelet rotates it.
func fetchPodBootstrap(ctx context.Context, cmd *cobra.Command, addr string, caPEM []byte, tokenFile string,
	req client.KubernetesBootstrapRequest, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		token, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("ServiceAccount token: %w", err)
		}
		c, err := client.New(addr, strings.TrimSpace(string(token)))
		if err != nil {
			return nil, err
		}
		if len(caPEM) > 0 {
			if err := c.TrustCA(caPEM); err != nil {
				return nil, fmt.Errorf("control plane CA: %w", err)
			}
		}
		data, err := c.KubernetesBootstrap(ctx, req)
		if err == nil {
			return data, nil
		}
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && (apiErr.StatusCode == 401 || apiErr.StatusCode == 403 || apiErr.StatusCode == 400) {
			return nil, err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "bootstrap attempt %d: %v; retrying in %s\n", attempt, err, backoff)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no bootstrap within %s: last error: %w", timeout, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}
