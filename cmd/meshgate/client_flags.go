package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

const (
	defaultAPIAddress = "http://127.0.0.1:5681"
	envAPIAddress     = "MESHGATE_API_ADDRESS"
	envAdminToken     = "MESHGATE_ADMIN_TOKEN"
	envCAFile         = "MESHGATE_CA_FILE"
)

// clientOptions are the flags of every command that talks to a running control plane.
type clientOptions struct {
	address, token, caFile string
}

func clientFlags(cmd *cobra.Command) *clientOptions {
	o := &clientOptions{}
	f := cmd.Flags()
	f.StringVar(&o.address, "api-address", defaultAPIAddress, "control plane HTTP API address (env "+envAPIAddress+")")
	// The token's default is read at run time, not registration, so that --help never prints it.
	f.StringVar(&o.token, "admin-token", "", "admin token for the HTTP API (env "+envAdminToken+")")
	f.StringVar(&o.caFile, "ca-file", "", "PEM CA that an https:// API address is verified against, e.g. from meshgate ca control-plane (env "+envCAFile+"; default: the system's roots)")
	return o
}

// client builds the API client; a flag set on the command line wins over the environment.
func (o *clientOptions) client(cmd *cobra.Command) (*client.Client, error) {
	addr, token := o.address, o.token
	if v := os.Getenv(envAPIAddress); v != "" && !cmd.Flags().Changed("api-address") {
		addr = v
	}
	if v := os.Getenv(envAdminToken); v != "" && !cmd.Flags().Changed("admin-token") {
		token = v
	}
	caFile := o.caFile
	if v := os.Getenv(envCAFile); v != "" && !cmd.Flags().Changed("ca-file") {
		caFile = v
	}
	c, err := client.New(addr, token)
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, &exitError{code: 1, err: fmt.Errorf("--ca-file: %w", err)}
		}
		if err := c.TrustCA(pem); err != nil {
			return nil, &exitError{code: 1, err: fmt.Errorf("--ca-file %s: %w", caFile, err)}
		}
	}
	return c, nil
}

// parseKind resolves what the user typed (`dataplanes`, `dataplane`, `Dataplane`).
func parseKind(name string) (api.KindInfo, error) {
	info, ok := wire.ParseKind(name)
	if !ok {
		return info, &exitError{code: 1, err: fmt.Errorf("unknown resource type %q (known: %s)", name, strings.Join(wire.KindNames(), ", "))}
	}
	return info, nil
}

// apiFailure prints the server's causes, one per line, each in meshgate's usual error form
// (locate may prefix a file:line), and returns the summary as the command's error.
func apiFailure(stderr io.Writer, err error, locate func(wire.Cause) string) error {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return &exitError{code: 1, err: err}
	}
	for _, c := range ae.Causes {
		prefix := ""
		if locate != nil {
			prefix = locate(c)
		}
		fmt.Fprintln(stderr, prefix+client.CauseString(c))
	}
	msg := ae.Details
	if msg == "" {
		msg = ae.Title
	}
	return &exitError{code: 1, err: errors.New(msg)}
}

// displayName names a resource as meshgate's errors do: `MeshGateway default/edge`, `Mesh m`.
func displayName(kind, mesh, name string) string {
	if mesh == "" {
		return kind + " " + name
	}
	return kind + " " + mesh + "/" + name
}
