package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/bootstrap"
	"github.com/meshgate/meshgate/xds/render"
)

func newBootstrapCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap --dataplane-file F [--cp-address HOST:PORT] [-o FILE]",
		Short: "Print the Envoy bootstrap for a dataplane: its identity and the ADS connection to meshgate",
		Args:  cobra.NoArgs,
	}
	f := cmd.Flags()
	file := f.String("dataplane-file", "", "file holding the Dataplane resource")
	cp := f.String("cp-address", "127.0.0.1:5678", "control plane xDS address, host:port or grpc://host:port")
	adminPort := f.Uint32("admin-port", 0, "Envoy admin port on 127.0.0.1 (default: the Dataplane's networking.admin.port, else 9901)")
	out := f.StringP("output", "o", "", "write to this file instead of standard output")
	format := f.String("format", "yaml", "yaml or json")
	_ = cmd.MarkFlagRequired("dataplane-file")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		objs, errs := api.LoadFiles([]string{*file})
		if len(errs) > 0 {
			return &exitError{code: 1, err: errs}
		}
		var dps []*api.Dataplane
		for _, o := range objs {
			if dp, ok := o.(*api.Dataplane); ok {
				dps = append(dps, dp)
			}
		}
		if len(dps) != 1 {
			return &exitError{code: 1, err: fmt.Errorf("%s: want exactly one Dataplane, found %d", *file, len(dps))}
		}
		b, err := bootstrap.New(bootstrap.Request{Dataplane: dps[0], ControlPlane: *cp, AdminPort: *adminPort})
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
		return os.WriteFile(*out, data, 0o644)
	}
	return cmd
}
