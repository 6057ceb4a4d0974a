// Package servingtls gives the control plane its own TLS serving certificate, for the xDS
// server and the HTTPS API. It has two modes.
//
// Generated (the default): a control-plane CA lives in the store's state under StateKey, so
// every replica on one store presents a chain that verifies against the same CA. The first
// replica to start creates it (a create-only write); a replica that loses that race adopts
// the winner's. Each process then issues its own serving leaf from that CA, with the SANs it
// was given; the leaf's key never leaves the process and is not stored. Run renews the leaf at
// a fraction of its life (2/3 by default), and the new one is served on the next handshake.
//
// File mode (Options.CertFile and KeyFile): the operator's certificate and key, reloaded when
// the files change, including the symlink swap Kubernetes does for mounted secrets. A change
// that does not load (bad PEM, key that does not match, expired) is logged and the last good
// pair keeps serving.
//
// CAPEM is what clients should trust: the generated CA, or in file mode the certificates after
// the leaf in the cert file, or the leaf itself when it is self-signed, or nothing (the
// certificate is then expected to chain to a CA the clients already trust).
//
// ClientConfig is the matching client side, for the CLI and tests.
package servingtls
