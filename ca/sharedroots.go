package ca

import (
	"context"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
)

// Meshes are isolated by their CAs: a mesh's dataplanes accept only certificates that chain to
// the roots in its bundle. Two meshes whose provided backends hold the same root (one company
// CA handed to both, a copied Mesh) trust each other's certificates, and a peer that checks
// only the chain — Envoy with SAN checks off, as Kuma's cross-mesh gateway has it — cannot tell
// them apart. Kuma accepts it silently; meshgate says so.

// RootUse is one backend of one mesh anchoring trust in a root.
type RootUse struct {
	Mesh *api.Mesh
	// Index is the backend's position in mtls.backends.
	Index   int
	Backend string
	Root    *x509.Certificate
}

// Field is the path of the backend's certificate, as validation errors name fields.
func (u RootUse) Field() string { return fmt.Sprintf("mtls.backends[%d].conf.cert", u.Index) }

// SharedRoot is a root that backends of more than one mesh anchor trust in.
type SharedRoot struct {
	Root *x509.Certificate
	// Uses are sorted by mesh, then backend position.
	Uses []RootUse
}

// ProvidedRoots returns the root of every provided backend of every mesh with mTLS enabled:
// the last certificate of its `cert` data source. secrets resolves `secret:` sources (nil: none
// resolve). A backend whose certificate cannot be read or parsed is left out: loading it is
// what reports that.
func ProvidedRoots(ctx context.Context, meshes []*api.Mesh, secrets SecretResolver) []RootUse {
	var out []RootUse
	for _, mesh := range meshes {
		if !mesh.Spec.MTLSEnabled() {
			continue
		}
		read := plainSources(ctx, mesh.Name, secrets)
		for i, b := range mesh.Spec.MTLS.Backends {
			if b.Type != api.CABackendProvided {
				continue
			}
			var conf providedConf
			if decodeConf(b.Conf, &conf) != nil {
				continue
			}
			pem, err := read.read("cert", conf.Cert)
			if err != nil {
				continue
			}
			chain, err := certs.ParseCertificates(pem)
			if err != nil || len(chain) == 0 {
				continue
			}
			out = append(out, RootUse{Mesh: mesh, Index: i, Backend: b.Name, Root: chain[len(chain)-1]})
		}
	}
	return out
}

// SharedRoots groups uses by root and returns the roots used by more than one mesh, ordered by
// their first use.
func SharedRoots(uses []RootUse) []SharedRoot {
	byFP := map[string][]RootUse{}
	for _, u := range uses {
		fp := Fingerprint(u.Root)
		byFP[fp] = append(byFP[fp], u)
	}
	var out []SharedRoot
	for _, group := range byFP {
		meshes := map[string]bool{}
		for _, u := range group {
			meshes[u.Mesh.Name] = true
		}
		if len(meshes) < 2 {
			continue
		}
		sort.Slice(group, func(i, j int) bool {
			if group[i].Mesh.Name != group[j].Mesh.Name {
				return group[i].Mesh.Name < group[j].Mesh.Name
			}
			return group[i].Index < group[j].Index
		})
		out = append(out, SharedRoot{Root: group[0].Root, Uses: group})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Uses[0], out[j].Uses[0]
		if a.Mesh.Name != b.Mesh.Name {
			return a.Mesh.Name < b.Mesh.Name
		}
		return a.Index < b.Index
	})
	return out
}

// Warning says which meshes and backends trust the root, located like a validation error
// (`file:line: Mesh a: mtls.backends[0].conf.cert: ...`) with the file and line of every other
// use in the text, when locate is set and the Mesh came from a file.
func (s SharedRoot) Warning(locate bool) string {
	first := s.Uses[0]
	var others []string
	for _, u := range s.Uses[1:] {
		o := fmt.Sprintf("Mesh %s backend %q", u.Mesh.Name, u.Backend)
		if loc := location(u, locate); loc != "" {
			o += " (" + loc + ")"
		}
		others = append(others, o)
	}
	msg := fmt.Sprintf("%s: %s: provided backend %q trusts the same root CA as %s: %q (sha256 %s); "+
		"a certificate from either mesh's CA is trusted by the other, so give each mesh its own root",
		first.Mesh.DisplayName(), first.Field(), first.Backend, strings.Join(others, " and "),
		describeRoot(s.Root), Fingerprint(s.Root))
	if loc := location(first, locate); loc != "" {
		msg = loc + ": " + msg
	}
	return msg
}

func location(u RootUse, locate bool) string {
	src := u.Mesh.Source
	if !locate || src.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", src.File, src.LineOf(u.Field()))
}

func describeRoot(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "serial " + c.SerialNumber.String()
}
