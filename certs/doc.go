// Package certs holds meshgate's X.509 and SPIFFE primitives: workload identities as SPIFFE
// IDs, certificate templates, key generation, PEM codecs, chain verification and trust
// bundles. It knows nothing of CA backends or storage (that is package ca) and nothing of xDS.
//
// Identities, bundles and verification are go-spiffe types; keys, templates and PEM go through
// smallstep's go.step.sm/crypto, so that the X.509 plumbing is the same code step-ca runs.
//
// A meshgate workload certificate is Kuma-compatible rather than a strict X509-SVID: besides
// `spiffe://<mesh>/<service>` (one per service) it carries `kuma://<tag>/<value>` URIs, and
// the SPIFFE X509-SVID spec allows exactly one URI SAN. VerifySVID bridges the two; see there.
package certs
