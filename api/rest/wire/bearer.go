package wire

import "strings"

// BearerToken reads the token of an `Authorization: Bearer <token>` header (or the xDS stream's
// `authorization` gRPC metadata, which carries the same value). Every place meshgate accepts a
// token parses it here, so the API, the token endpoints and xDS cannot disagree about what
// they accept.
//
// The scheme is matched case-insensitively (RFC 7235 §2.1: `bearer x` and `BEARER x` are the
// same credentials as `Bearer x`), and any run of spaces or tabs may separate it from the
// token; surrounding whitespace is ignored. A missing or blank token is refused. The token
// itself is taken verbatim: it is compared, not interpreted, so a token with inner spaces (an
// admin token set to a passphrase) still works.
func BearerToken(authorization string) (string, bool) {
	v := strings.TrimSpace(authorization)
	i := strings.IndexAny(v, " \t")
	if i < 0 || !strings.EqualFold(v[:i], "Bearer") {
		return "", false
	}
	token := strings.TrimSpace(v[i:])
	if token == "" {
		return "", false
	}
	return token, true
}
