package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
)

func newExplainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain -f PATH... --dataplane MESH/NAME --port P --host H --path /x",
		Short: "Show how the dataplane's Envoy would handle one request, read from its generated config",
		Args:  cobra.NoArgs,
	}
	files := fileFlag(cmd)
	opts := gatewayFlags(cmd)
	var req explain.Request
	var headers []string
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
	_ = cmd.MarkFlagRequired("dataplane")
	_ = cmd.MarkFlagRequired("port")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		for _, h := range headers {
			hdr, err := explain.ParseHeader(h)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			req.Headers = append(req.Headers, hdr)
		}
		out, err := loadAndRender(*files, *dataplane, *opts)
		if err != nil {
			return err
		}
		res, err := explain.Explain(out.Resources, req)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if *output == "text" {
			fmt.Fprint(cmd.OutOrStdout(), res.Text())
			return nil
		}
		b, err := render.Marshal(res, *output)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	return cmd
}
