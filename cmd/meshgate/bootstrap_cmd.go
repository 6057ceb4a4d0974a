package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/xds/bootstrap"
	"github.com/meshgate/meshgate/xds/render"
)

func newBootstrapCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap --dataplane-file F [--dataplane-token-file T] [--cp-address HOST:PORT]... [-o FILE]",
		Short: "Print the Envoy bootstrap for a dataplane: its identity and the ADS connection to meshgate",
		Args:  cobra.NoArgs,
	}
	f := cmd.Flags()
	file := f.String("dataplane-file", "", "file holding the Dataplane resource, or the ZoneIngress for a zone ingress's Envoy")
	tokenFile := f.String("dataplane-token-file", "", "file holding the dataplane's token (meshgate token dataplane); Envoy presents it to the control plane")
	cp := f.StringArray("cp-address", []string{"127.0.0.1:5678"}, "control plane xDS address, host:port or grpc://host:port; "+
		"repeat it for several replicas (Envoy fails over between them; a host name resolving to several addresses uses them all)")
	adminPort := f.Uint32("admin-port", 0, "Envoy admin port on 127.0.0.1 (default: the Dataplane's networking.admin.port, else 9901)")
	out := f.StringP("output", "o", "", "write to this file instead of standard output")
	format := f.String("format", "yaml", "yaml or json")
	cpCA := f.String("cp-ca-file", "", "PEM CA Envoy verifies the control plane against (meshgate ca control-plane prints it); default: fetched from the control plane's API at --api-address")
	insecure := f.Bool("xds-insecure", false, "connect to xDS in plain text, for a control plane run with --xds-insecure: the token and private keys cross the network in clear")
	proxyless := proxylessFlags(cmd)
	copts := clientFlags(cmd)
	_ = cmd.MarkFlagRequired("dataplane-file")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		objs, errs := api.LoadFiles([]string{*file})
		if len(errs) > 0 {
			return &exitError{code: 1, err: errs}
		}
		var dps []*api.Dataplane
		var zis []*api.ZoneIngress
		for _, o := range objs {
			switch o := o.(type) {
			case *api.Dataplane:
				dps = append(dps, o)
			case *api.ZoneIngress:
				zis = append(zis, o)
			}
		}
		if len(dps)+len(zis) != 1 {
			return &exitError{code: 1, err: fmt.Errorf("%s: want exactly one Dataplane or ZoneIngress, found %d and %d", *file, len(dps), len(zis))}
		}
		var breq bootstrap.Request
		var token string
		var err error
		if len(zis) == 1 {
			breq.ZoneIngress = zis[0]
			token, err = readZoneIngressToken(*tokenFile)
		} else {
			breq.Dataplane = dps[0]
			token, err = readDataplaneToken(*tokenFile, dps[0])
		}
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if proxyless.enabled {
			return proxyless.run(cmd, breq.Dataplane, *tokenFile, *cp, *cpCA, *insecure, *out, copts)
		}
		var caPEM []byte
		if !*insecure {
			if caPEM, err = controlPlaneCA(cmd, *cpCA, copts); err != nil {
				return err
			}
		}
		breq.ControlPlane, breq.Replicas, breq.AdminPort, breq.Token, breq.ControlPlaneCA, breq.Insecure = (*cp)[0], (*cp)[1:], *adminPort, token, caPEM, *insecure
		b, err := bootstrap.New(breq)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		obj, err := render.Object(b)
		if err != nil {
			return err
		}
		if m, ok := obj.(map[string]any); ok {
			delete(m, "@type") // Envoy reads a bare Bootstrap, not an Any.
		}
		data, err := render.Marshal(obj, *format)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if *out == "" {
			_, err = cmd.OutOrStdout().Write(data)
			return err
		}
		if token == "" {
			return os.WriteFile(*out, data, 0o644)
		}
		return writeSecretFile(*out, data)
	}
	return cmd
}

// controlPlaneCA reads the CA from file, or else asks the control plane's API for it.
func controlPlaneCA(cmd *cobra.Command, file string, copts *clientOptions) ([]byte, error) {
	if file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, &exitError{code: 1, err: fmt.Errorf("--cp-ca-file: %w", err)}
		}
		return pem, nil
	}
	c, err := copts.client(cmd)
	if err != nil {
		return nil, err
	}
	pem, err := c.ControlPlaneCA(cmd.Context())
	if err != nil {
		return nil, &exitError{code: 1, err: fmt.Errorf("fetching the control plane's CA (or give --cp-ca-file): %w", err)}
	}
	return pem, nil
}

// writeSecretFile writes a bootstrap holding a token, which is as secret as the token file:
// owner-only, also when the file already existed with wider permissions.
func writeSecretFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// readDataplaneToken reads the token file, if any, and checks that the token names this
// dataplane: a mix-up is caught here rather than as a refused xDS stream.
// readZoneIngressToken reads a `meshgate token zone-ingress` token; the zone checks whose it is.
func readZoneIngressToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("zone ingress token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("zone ingress token file %s is empty", path)
	}
	return token, nil
}

func readDataplaneToken(path string, dp *api.Dataplane) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("dataplane token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", fmt.Errorf("dataplane token file %s is empty", path)
	}
	info, err := tokens.ParseUnverified(token)
	if err != nil {
		return "", fmt.Errorf("dataplane token file %s: %w", path, err)
	}
	if info.Mesh != dp.Mesh || info.Name != dp.Name {
		return "", fmt.Errorf("dataplane token file %s holds a token for dataplane %s/%s, not %s/%s", path, info.Mesh, info.Name, dp.Mesh, dp.Name)
	}
	return token, nil
}
