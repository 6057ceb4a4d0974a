package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

func newRenderCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "render -f PATH... --dataplane MESH/NAME [-o yaml|json]",
		Short: "Print the exact xDS resources a dataplane would receive (private keys redacted)",
		Args:  cobra.NoArgs,
	}
	files := fileFlag(cmd)
	opts := gatewayFlags(cmd)
	dataplane := cmd.Flags().String("dataplane", "", "dataplane as MESH/NAME")
	output := cmd.Flags().StringP("output", "o", "yaml", "output format: yaml or json")
	_ = cmd.MarkFlagRequired("dataplane")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		out, err := loadAndRender(*files, *dataplane, *opts)
		if err != nil {
			return err
		}
		for _, d := range out.Proxy.Diagnostics {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", d.Unlocated())
		}
		doc, err := render.NewDocument(out.Resources)
		if err != nil {
			return err
		}
		b, err := render.Marshal(doc, *output)
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	return cmd
}

func loadAndRender(files []string, dataplane string, opts build.Options) (*render.Output, error) {
	mesh, name, err := render.ParseDataplane(dataplane)
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	m, err := render.Load(files)
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	out, err := render.Dataplane(m, mesh, name, opts)
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	return out, nil
}
