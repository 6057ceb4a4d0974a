package main

import (
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/kube"
)

func newInstallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Print Kubernetes manifests: Kuma's CRDs, or everything to run meshgate in a cluster",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newInstallCRDsCmd(), newInstallControlPlaneCmd())
	return cmd
}

func newInstallCRDsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "crds",
		Short: "Print the kuma.io/v1alpha1 CustomResourceDefinitions of the kinds meshgate serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeManifests(cmd, kube.CRDs())
		},
	}
}

func newInstallControlPlaneCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "control-plane",
		Short: "Print the CRDs, namespace, ServiceAccount, RBAC, Deployment, Service and admission webhook that run meshgate",
		Long: "Print the CRDs, namespace, ServiceAccount, RBAC, Deployment, Service and admission webhook that run meshgate.\n" +
			"The webhook refuses invalid Kuma resources at apply time; the control plane sets its caBundle at start.\n" +
			"The Deployment reads the admin token of the HTTPS API from the Secret --admin-token-secret\n" +
			"(key `token`), which must exist: kubectl -n NAMESPACE create secret generic NAME --from-literal=token=...",
		Args: cobra.NoArgs,
	}
	opts := kube.ControlPlaneOptions{}
	f := cmd.Flags()
	f.StringVar(&opts.Namespace, "namespace", "meshgate-system", "namespace of the control plane and of its own state (Secrets)")
	f.StringVar(&opts.Image, "image", defaultImage(), "meshgate image the Deployment runs")
	f.StringVar(&opts.AdminTokenSecret, "admin-token-secret", "meshgate-admin-token", "Secret (key `token`) holding the HTTPS API's admin token")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		objs, err := kube.ControlPlane(opts)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		return writeManifests(cmd, objs)
	}
	return cmd
}

func writeManifests(cmd *cobra.Command, objs []map[string]any) error {
	out, err := kube.WriteDocuments(objs)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(out)
	return err
}

// defaultImage is the meshgate image of this binary's version: the module version of a
// released build, `dev` for one built from a working tree.
func defaultImage() string {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" && !strings.Contains(v, "+dirty") {
			version = v
		}
	}
	return "meshgate/meshgate:" + version
}
