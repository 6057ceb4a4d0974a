package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/client"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// newInspectDataplanesCmd is `meshgate inspect dataplanes`: every dataplane with its type and
// connection state, read from GET /inspect/dataplanes (the web console reads the same view).
func newInspectDataplanesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataplanes [--mesh M | --all-meshes] [-o table|yaml|json] | dataplanes MESH/NAME",
		Short: "List dataplanes with their type, online state, replica, last ACK, NACK and certificate expiry",
		Long: "List dataplanes with their type, online state, replica, last ACK, NACK and certificate expiry. " +
			"With MESH/NAME it is `inspect dataplane MESH/NAME` (kind names are accepted singular or plural everywhere).",
		Args: cobra.MaximumNArgs(1),
	}
	copts := clientFlags(cmd)
	f := cmd.Flags()
	mesh := f.StringP("mesh", "m", api.DefaultMesh, "mesh of the dataplanes")
	allMeshes := f.BoolP("all-meshes", "A", false, "list the dataplanes of every mesh")
	output := f.StringP("output", "o", "table", "output format: table, yaml or json")
	cmd.MarkFlagsMutuallyExclusive("mesh", "all-meshes")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			if *allMeshes || cmd.Flags().Changed("mesh") {
				return &exitError{code: 1, err: fmt.Errorf("inspect dataplanes %s: --mesh and --all-meshes list dataplanes; give either them or MESH/NAME", args[0])}
			}
			out := *output
			if !cmd.Flags().Changed("output") {
				out = "yaml"
			}
			return inspectDataplane(cmd, copts, out, args[0])
		}
		if err := checkOutput(*output, "table", "yaml", "json"); err != nil {
			return err
		}
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		listMesh := *mesh
		if *allMeshes {
			listMesh = ""
		}
		dps, err := c.InspectDataplanes(cmd.Context(), listMesh)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		if *output != "table" {
			raw, err := json.Marshal(dps)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), raw, *output)
		}
		return printDataplaneSummaries(cmd.OutOrStdout(), dps, time.Now())
	}
	return cmd
}

// printDataplaneSummaries prints the table kumactl inspect dataplanes users expect; times are
// ages ("12s ago") and expiry a remaining duration, since that is what an operator compares.
func printDataplaneSummaries(w io.Writer, dps []client.DataplaneSummary, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "MESH\tNAME\tTYPE\tSTATUS\tREPLICA\tLAST ACK\tNACK\tCERT EXPIRES")
	for _, d := range dps {
		status := "offline"
		if d.Online {
			status = "online"
		}
		if d.Error != "" {
			status += " (error)"
		}
		nack := "-"
		if d.NACK != "" {
			nack = oneLine(d.NACK, 60)
			if d.Rejected {
				nack = "REJECTED: " + nack
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Mesh, d.Name, d.Type, status,
			orDash(d.Replica), ago(d.LastACK, now), nack, until(d.CertExpiry, now))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func until(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if !t.After(now) {
		return "expired " + t.UTC().Format(time.RFC3339)
	}
	return "in " + t.Sub(now).Round(time.Minute).String()
}

// oneLine keeps a NACK's first line, cut to n characters, so the table stays a table.
func oneLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return s
}
