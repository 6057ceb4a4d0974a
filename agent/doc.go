// Package agent is `meshgate agent`: it runs next to a workload with its dataplane's token,
// fetches the dataplane's X509-SVID from the control plane's identity endpoint
// (GET /dataplane/identity), renews it at the time the control plane says, and hands it to
// the workload in the two standard ways:
//
//   - the SPIFFE Workload API (gRPC service SpiffeWorkloadAPI) on a unix socket, for go-spiffe,
//     SPIRE-aware libraries and anything that speaks it; every stream is pushed the new SVID
//     and bundles when they change;
//   - files in a directory, the ones gRPC's `file_watcher` certificate provider and most TLS
//     stacks read: svid.pem, svid_key.pem, bundle.pem and spiffe_bundle_map.json.
//
// Attestation: the agent holds exactly one identity, its dataplane's, and gives it to every
// process that can connect to its socket. The socket is created mode 0600, so that is
// processes running as the agent's user (and root); run one agent per workload identity, as
// the user of that workload. There is no per-process selection as in SPIRE: the token names the
// dataplane, the file permissions name who may act as it.
package agent
