package main

import (
	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/xds/build"
)

// gatewayFlags registers the per-gateway settings every command that builds configuration
// shares, so render and explain show exactly what the server would send.
func gatewayFlags(cmd *cobra.Command) *build.Options {
	opts := build.DefaultOptions()
	f := cmd.Flags()
	f.DurationVar(&opts.HTTP.RequestHeadersTimeout, "request-headers-timeout", opts.HTTP.RequestHeadersTimeout,
		"time a gateway client has to send all request headers")
	f.DurationVar(&opts.HTTP.StreamIdleTimeout, "stream-idle-timeout", opts.HTTP.StreamIdleTimeout,
		"idle time after which a gateway stream (request) is reset; raise for long polls")
	f.DurationVar(&opts.HTTP.IdleTimeout, "idle-timeout", opts.HTTP.IdleTimeout,
		"idle time after which a downstream connection without streams is closed")
	f.StringVar(&opts.HTTP.ServerName, "server-name", opts.HTTP.ServerName, "Server header of gateway responses")
	return &opts
}

// fileFlag registers the repeatable -f flag.
func fileFlag(cmd *cobra.Command) *[]string {
	var files []string
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "resource file or directory (repeatable)")
	_ = cmd.MarkFlagRequired("file")
	return &files
}
