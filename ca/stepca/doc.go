// Package stepca is the mesh CA backend that has a team's existing step-ca sign the mesh's
// leaves, through smallstep's cas/stepcas (the same code step-ca itself uses in RA mode).
//
// # What the user's step-ca needs
//
//   - A JWK provisioner (the kind `step ca init --provisioner NAME` creates) and the password
//     of its encrypted key. JWK is used rather than X5C because stepcas then fetches the
//     encrypted key from the CA itself: meshgate needs only a name and a password (which can
//     live in a mesh Secret), not a provisioner certificate and key on disk that expire and
//     must be renewed. The password must not be empty: stepcas would fall back to prompting
//     on a terminal, which a server does not have.
//   - The provisioner's x509 template must keep the SANs it is given. step-ca's default leaf
//     template does ({"sans": {{ toJson .SANs }}}): stepcas puts every SAN of the request,
//     URI SANs included, into the token, and the JWK provisioner requires the CSR to carry
//     exactly those. A custom template that drops .SANs would produce leaves without their
//     SPIFFE ID; Sign checks for that and fails instead of handing such a leaf out.
//   - The leaf lifetime the mesh asks for (dpCert.rotation.expiration, 24 h by default) must
//     fit in the provisioner's maxTLSCertDuration (step-ca's default is 24 h). When the
//     provisioner advertises its claims, Sign caps the lifetime at that maximum; when the
//     limit is only set CA-wide (authority.claims in ca.json), meshgate cannot see it and a
//     longer request is refused by step-ca with an error that says so.
//
// step-ca, not meshgate, picks the serial number, backdates NotBefore (1 minute by default)
// and sets the key usages (digitalSignature, serverAuth and clientAuth in the default
// template); only the template's subject common name and SANs are sent.
package stepca
