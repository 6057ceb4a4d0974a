// Package ca runs one certificate authority per mesh. A Manager turns a Mesh's `mtls` section
// into an Authority: every listed backend is loaded (and, for builtin ones, created on first
// use and persisted in the store), all of their roots form the mesh's trust bundle, and the
// enabled backend issues workload certificates.
//
// Signing goes through smallstep's CAS interface (cas/apiv1.CertificateAuthorityService,
// implemented by cas/softcas for the builtin and provided backends), so that an external
// step-ca (cas/stepcas) can slot in behind the same code. Templates, keys and PEM come from
// package certs. Every certificate is verified against the mesh's bundle before it is returned:
// a CA that hands out a certificate its own dataplanes would reject fails loudly here instead.
//
// DataplaneSubject is the one statement of what a dataplane's certificate says: the control
// plane issues from it, and `explain --source` reasons about RBAC with it.
//
// The workload-identity lifecycle (issuance, persistence, renewal and rotation of every
// dataplane's certificate, with the retiring roots a CA switch leaves behind) lives in the
// subpackage ca/identity, next to the CA manager as SPIRE keeps its CA manager, journal and
// rotator together. Package ca and its subpackages know nothing of xDS: the control plane
// turns an identity.Identity into the build's secrets, and tokens (ca/tokens) build on top.
package ca
