package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
)

func newExplainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain -f PATH... --dataplane MESH/NAME --port P --host H --path /x",
		Short: "Show how the dataplane's Envoy would handle one request, read from its generated config",
		Long: `Show how the dataplane's Envoy would handle one request, read from its generated config.

On a sidecar, --address picks the listener by destination (a .mesh host resolves to its VIP
when the dataplane uses transparent proxying). --source MESH/DATAPLANE or --source-uri
present a client certificate, which listeners requiring one validate and RBAC filters
authorize; --source also sends the x-kuma-tags header that dataplane's proxy sets (unless
--header gives one), by which inbounds choose FaultInjections and RateLimits. A request
leaving through an outbound is followed to every dataplane it reaches.

--server asks the running control plane at --api-address instead of -f files: it explains
the request on the configuration it serves the dataplane now (on a zone: global's routes and
other zones' ZoneIngresses); --follow explains it at every dataplane it reaches, each with
the configuration it is served (--source-uri instead of --source).`,
		Args: cobra.NoArgs,
	}
	files := fileFlag(cmd)
	co := clientFlags(cmd)
	server := cmd.Flags().Bool("server", false, "explain on the running control plane at --api-address (what it serves the dataplane now) instead of -f files")
	_ = cmd.Flags().SetAnnotation("file", cobra.BashCompOneRequiredFlag, []string{"false"})
	cmd.MarkFlagsOneRequired("file", "server")
	cmd.MarkFlagsMutuallyExclusive("file", "server")
	opts := gatewayFlags(cmd)
	var req explain.Request
	var headers, sourceURIs []string
	f := cmd.Flags()
	dataplane := f.String("dataplane", "", "dataplane as MESH/NAME")
	output := f.StringP("output", "o", "text", "output format: text, yaml or json")
	f.Uint32Var(&req.Port, "port", 0, "listener port the request arrives on")
	f.StringVar(&req.Host, "host", "", "Host header (port allowed)")
	f.StringVar(&req.Path, "path", "/", "request path, query included")
	f.StringVar(&req.Method, "method", "GET", "request method")
	f.StringArrayVar(&headers, "header", nil, "request header name=value (repeatable)")
	f.StringVar(&req.SNI, "sni", "", "TLS server name (default: the host, on TLS listeners)")
	f.BoolVar(&req.TLS, "tls", false, "the connection is TLS")
	f.BoolVar(&req.Plaintext, "plaintext", false, "the connection is plain text")
	f.StringVar(&req.Address, "address", "", "destination IP address (default: a .mesh host's VIP on a transparent proxy, else found by port)")
	source := f.String("source", "", "the client is dataplane MESH/NAME: present the certificate its mesh's CA issues it and send the x-kuma-tags its proxy sets")
	f.StringArrayVar(&sourceURIs, "source-uri", nil, "present a client certificate with this URI SAN (repeatable)")
	follow := f.Bool("follow", true, "follow the request to the dataplanes it reaches (default: when it leaves through an outbound)")
	_ = cmd.MarkFlagRequired("dataplane")
	_ = cmd.MarkFlagRequired("port")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		fail := func(err error) error { return &exitError{code: 1, err: err} }
		for _, h := range headers {
			hdr, err := explain.ParseHeader(h)
			if err != nil {
				return fail(err)
			}
			req.Headers = append(req.Headers, hdr)
		}
		mesh, name, err := render.ParseDataplane(*dataplane)
		if err != nil {
			return fail(err)
		}
		if *server {
			return explainOnServer(cmd, co, mesh, name, req, sourceURIs, *output)
		}
		m, err := render.Load(*files)
		if err != nil {
			return fail(err)
		}
		network := build.PreviewNetwork(m)
		if *source != "" {
			smesh, sname, err := render.ParseDataplane(*source)
			if err != nil {
				return fail(fmt.Errorf("--source: %w", err))
			}
			peer, err := render.PeerOf(m, smesh, sname)
			if err != nil {
				return fail(fmt.Errorf("--source: %w", err))
			}
			req.Source = peer
			req.Headers = withSourceTags(req.Headers, m.Mesh(smesh).Dataplane(sname))
		}
		if len(sourceURIs) > 0 {
			if req.Source == nil {
				req.Source = &explain.Peer{}
			}
			req.Source.URIs = append(req.Source.URIs, sourceURIs...)
		}
		if req.Source != nil && req.ALPN == nil && !req.Plaintext {
			// Mesh clients offer the mesh ALPN, which cross-mesh listeners require.
			req.ALPN = []string{names.MeshALPN}
		}
		if req.Address == "" {
			if ip, ok := render.ResolveHost(m, network, mesh, name, req.Host); ok {
				req.Address = ip.String()
			}
		}
		fo := render.FollowOptions{Options: *opts, Network: network, OutboundOnly: !cmd.Flags().Changed("follow")}
		if !*follow {
			fo.MaxHops = 1
		}
		hops, err := render.Follow(m, mesh, name, req, fo)
		if err != nil {
			return fail(err)
		}
		// Today's single-dataplane output unless the request was followed.
		followed := *follow && (cmd.Flags().Changed("follow") || hops[0].Result.Outbound)
		w := cmd.OutOrStdout()
		if *output == "text" {
			if followed {
				fmt.Fprint(w, render.HopsText(hops))
			} else {
				fmt.Fprint(w, hops[0].Result.Text())
			}
			return nil
		}
		var v any = hops[0].Result
		if followed {
			v = struct {
				Hops []render.Hop `json:"hops"`
			}{hops}
		}
		b, err := render.Marshal(v, *output)
		if err != nil {
			return fail(err)
		}
		_, err = w.Write(b)
		return err
	}
	return cmd
}

// withSourceTags adds the x-kuma-tags header a request from dp carries, as its proxy sets it
// (replacing whatever the application sent), unless the user gave one.
func withSourceTags(headers []explain.Header, dp *api.Dataplane) []explain.Header {
	for _, h := range headers {
		if strings.EqualFold(h.Name, names.TagsHeader) {
			return headers
		}
	}
	if v := names.TagsHeaderValue(build.SourceTags(dp)); v != "" {
		headers = append(headers, explain.Header{Name: names.TagsHeader, Value: v})
	}
	return headers
}
