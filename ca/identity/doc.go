// Package identity runs the lifecycle of every dataplane's workload certificate on top of the
// per-mesh CAs of package ca: issuance (service.go), persistence in the store so a restart or a
// second control plane serves the certificate a dataplane already has (store.go), renewal at
// 80 % of the life, and rotation after a mesh switches CA backend: old leaves stay trusted
// while retiring roots remain in the bundle, and re-issues are jittered and rate-limited
// (rotation*.go). What a certificate states comes from ca.DataplaneSubject.
//
// The interface is narrow: New, then per rebuild SetModel, For (a Request per dataplane,
// returning an Identity of PEM strings) and Forget; DropMesh and DeleteMesh when a mesh goes;
// Bundle, Authority and Status for the control plane's endpoints. It knows nothing of xDS: the
// control plane converts an Identity to the build's at its boundary.
package identity
