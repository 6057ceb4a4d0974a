package main

import (
	"github.com/spf13/cobra"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/meshgate/meshgate/certs"
)

func newCACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Look at the per-mesh certificate authorities",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCABundleCmd(), newCAControlPlaneCmd())
	return cmd
}

func newCAControlPlaneCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "control-plane",
		Short: "Print the CA that signs the control plane's certificate (xDS and HTTPS API), as PEM: what Envoy and the CLI trust",
		Args:  cobra.NoArgs,
	}
	copts := clientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		pem, err := c.ControlPlaneCA(cmd.Context())
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		_, err = cmd.OutOrStdout().Write(pem)
		return err
	}
	return cmd
}

func newCABundleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle --mesh M",
		Short: "Print the mesh's trust bundle (every root its workloads chain to) as PEM",
		Args:  cobra.NoArgs,
	}
	copts := clientFlags(cmd)
	mesh := cmd.Flags().String("mesh", "", "mesh whose bundle to print")
	_ = cmd.MarkFlagRequired("mesh")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		b, err := c.MeshBundle(cmd.Context(), *mesh)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		out, err := certs.BundlePEM(x509bundle.FromX509Authorities(b.TrustDomain(), b.X509Authorities()))
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(out)
		return err
	}
	return cmd
}
