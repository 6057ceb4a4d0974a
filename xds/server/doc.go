// Package server is meshgate's xDS server: it hands each dataplane the snapshot built for it,
// over ADS (state of the world and delta) and the per-type discovery services, and tracks what
// every connected Envoy has accepted or rejected.
//
// It is built on go-control-plane's snapshot cache and stream servers, with two of their
// behaviours corrected:
//
//   - The cache runs in non-ADS mode. In ADS mode a request naming only some of a type's
//     resources is never answered (pkg/cache/v3/simple.go, respond: the superset check returns
//     without sending, and the watch is dropped), which stalls Envoy while it replaces a listener
//     and every gRPC client, as they always ask by name. Non-ADS mode answers with exactly the
//     names requested. What ADS mode gave in exchange, pushing a node's types in dependency
//     order, is restored by publishing each changed type as its own step (see publish.go).
//   - A NACKed state-of-the-world version is never sent again on that stream: the stream's
//     watch is parked until the type's version changes (see acks.go). Every NACK is logged,
//     counted and kept for Nodes.
package server
