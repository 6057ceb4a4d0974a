package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func newGetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get KIND [NAME] [--mesh M] [-o table|yaml|json] [--reveal]",
		Short: "Show resources stored in a running control plane",
		Long: "Show one resource, or list a kind. KIND is the plural (meshgateways), the singular\n" +
			"(meshgateway) or the type (MeshGateway).\n\n" +
			"Secret data comes back as \"" + wire.RedactedData + "\" unless --reveal is given (which prints\n" +
			"YAML unless -o says otherwise, since the table has no data column).",
		Args: cobra.RangeArgs(1, 2),
	}
	copts := clientFlags(cmd)
	f := cmd.Flags()
	mesh := f.StringP("mesh", "m", api.DefaultMesh, "mesh of the resources")
	allMeshes := f.BoolP("all-meshes", "A", false, "list the kind in every mesh")
	output := f.StringP("output", "o", "table", "output format: table, yaml or json")
	reveal := f.Bool("reveal", false, "show Secret data instead of \""+wire.RedactedData+"\"")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		info, err := parseKind(args[0])
		if err != nil {
			return err
		}
		if *reveal && !f.Changed("output") {
			*output = "yaml"
		}
		opts := client.GetOptions{Reveal: *reveal}
		if err := checkOutput(*output, "table", "yaml", "json"); err != nil {
			return err
		}
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		var items []client.Resource
		if len(args) == 2 {
			res, err := c.GetWith(cmd.Context(), info.Kind, *mesh, args[1], opts)
			if err != nil {
				return apiFailure(cmd.ErrOrStderr(), err, nil)
			}
			if *output != "table" {
				return printJSON(cmd.OutOrStdout(), res.Raw, *output)
			}
			items = []client.Resource{*res}
		} else {
			listMesh := *mesh
			if *allMeshes {
				listMesh = ""
			}
			if items, err = c.ListWith(cmd.Context(), info.Kind, listMesh, opts); err != nil {
				return apiFailure(cmd.ErrOrStderr(), err, nil)
			}
			if *output != "table" {
				return printList(cmd.OutOrStdout(), items, *output)
			}
		}
		return printTable(cmd.OutOrStdout(), info, items, time.Now())
	}
	return cmd
}

func checkOutput(got string, allowed ...string) error {
	for _, a := range allowed {
		if got == a {
			return nil
		}
	}
	return &exitError{code: 1, err: fmt.Errorf("output format %q: want one of %v", got, allowed)}
}

// printJSON prints a JSON document as served, indented, or as YAML with its key order kept.
func printJSON(w io.Writer, raw []byte, format string) error {
	var out []byte
	var err error
	if format == "yaml" {
		out, err = wire.JSONToYAML(raw)
	} else {
		// json.Indent keeps strings as served; MarshalIndent would turn "<redacted>" into
		// "\u003credacted\u003e".
		var buf bytes.Buffer
		err = json.Indent(&buf, raw, "", "  ")
		out = append(buf.Bytes(), '\n')
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// printList prints a listing in the API's own list shape, all pages merged.
func printList(w io.Writer, items []client.Resource, format string) error {
	list := wire.List{Total: len(items), Items: make([]json.RawMessage, len(items))}
	for i, r := range items {
		list.Items[i] = r.Raw
	}
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(list); err != nil {
		return err
	}
	return printJSON(w, bytes.TrimSpace(raw.Bytes()), format)
}

// printTable prints the columns every kind has, so kinds registered later print too, and a
// ZONE column when some resource came from a zone (a global control plane's listing).
func printTable(w io.Writer, info api.KindInfo, items []client.Resource, now time.Time) error {
	zones := make([]string, len(items))
	withZone := false
	for i, r := range items {
		var labeled struct {
			Labels map[string]string `json:"labels"`
		}
		if json.Unmarshal(r.Raw, &labeled) == nil {
			zones[i] = labeled.Labels[zoneLabel]
			withZone = withZone || zones[i] != ""
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	var header []string
	if !info.Global {
		header = append(header, "MESH")
	}
	header = append(header, "NAME")
	if withZone {
		header = append(header, "ZONE")
	}
	fmt.Fprintln(tw, strings.Join(append(header, "AGE"), "\t"))
	for i, r := range items {
		var row []string
		if !info.Global {
			row = append(row, r.Mesh)
		}
		row = append(row, r.Name)
		if withZone {
			row = append(row, zones[i])
		}
		fmt.Fprintln(tw, strings.Join(append(row, age(r.CreationTime, now)), "\t"))
	}
	return tw.Flush()
}

// zoneLabel is the label global puts on the resources a zone reports (Kuma's).
const zoneLabel = "kuma.io/zone"

// age is kubectl's short form: 45s, 12m, 5h, 3d.
func age(created, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(created)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
