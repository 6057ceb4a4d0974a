package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
	xdsserver "github.com/meshgate/meshgate/xds/server"
)

func newInspectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect dataplane MESH/NAME [-o yaml|json|text]",
		Short: "Show the control plane's view of a dataplane: diagnostics, xDS stream status and policy decisions",
		Long: `Show the control plane's view of a dataplane: diagnostics, xDS stream status and, for every
route, TCP proxy and cluster it is served, which connection policy of each kind applied, which
candidates lost and why, and the Envoy settings they became. -o text is a summary for a terminal.`,
		Args: cobra.ExactArgs(2),
	}
	copts := clientFlags(cmd)
	output := cmd.Flags().StringP("output", "o", "yaml", "output format: yaml, json or text")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if info, err := parseKind(args[0]); err != nil || info.Kind != api.KindDataplane {
			return &exitError{code: 1, err: fmt.Errorf("inspect %q: only dataplanes can be inspected", args[0])}
		}
		return inspectDataplane(cmd, copts, *output, args[1])
	}
	cmd.AddCommand(newInspectDataplanesCmd())
	return cmd
}

// inspectDataplane prints the control plane's view of one dataplane, `MESH/NAME`.
func inspectDataplane(cmd *cobra.Command, copts *clientOptions, output, target string) error {
	if err := checkOutput(output, "yaml", "json", "text"); err != nil {
		return err
	}
	mesh, name, err := render.ParseDataplane(target)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	c, err := copts.client(cmd)
	if err != nil {
		return err
	}
	raw, err := c.Inspect(cmd.Context(), mesh, name)
	if err != nil {
		return apiFailure(cmd.ErrOrStderr(), err, nil)
	}
	if output == "text" {
		return printInspection(cmd.OutOrStdout(), raw, mesh+"/"+name)
	}
	return printJSON(cmd.OutOrStdout(), raw, output)
}

// inspection is the part of the API's inspect document the text form shows (see
// controlplane.Inspection).
type inspection struct {
	Revision    int64                 `json:"revision"`
	Error       string                `json:"error"`
	Diagnostics []api.FieldError      `json:"diagnostics"`
	XDS         *xdsserver.NodeStatus `json:"xds"`
	Policies    *explain.PolicyReport `json:"policies"`
}

// printInspection renders the inspect document for a terminal: the dataplane's state, then
// its policy decisions.
func printInspection(w io.Writer, raw []byte, dataplane string) error {
	var in inspection
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("reading the inspect document: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	head := dataplane
	if in.Revision != 0 {
		head += fmt.Sprintf("  (revision %d)", in.Revision)
	}
	row("dataplane", head)
	if in.Error != "" {
		row("error", in.Error)
	}
	for _, d := range in.Diagnostics {
		row("diagnostic", d.Unlocated())
	}
	switch x := in.XDS; {
	case x == nil || x.Streams == 0:
		row("xds", "not connected")
	default:
		s := fmt.Sprintf("%d stream", x.Streams)
		if x.Streams > 1 {
			s += "s"
		}
		row("xds", s)
		for _, ts := range x.Types {
			if ts.Rejected && ts.LastNACK != nil {
				row("rejected", fmt.Sprintf("%s version %s: %s", shortType(ts.TypeURL), ts.LastNACK.Version, ts.LastNACK.Message))
			}
		}
	}
	if in.Policies.Empty() {
		row("policies", "none recorded")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !in.Policies.Empty() {
		_, err := fmt.Fprint(w, "\n"+in.Policies.Text())
		return err
	}
	return nil
}

// shortType is a type URL's message name: `Listener` for ...listener.v3.Listener.
func shortType(url string) string {
	return url[strings.LastIndex(url, ".")+1:]
}
