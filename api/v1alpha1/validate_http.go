package v1alpha1

import (
	"regexp"
	"strings"
)

// httpMethods are the values of Kuma's HttpMethod enum.
var httpMethods = []string{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}

var httpMethodList = strings.Join(httpMethods, ", ")

func validMethod(m string) bool {
	for _, x := range httpMethods {
		if x == m {
			return true
		}
	}
	return false
}

// headerName checks an HTTP field name (an RFC 9110 token). pseudo allows a `:`-prefixed
// pseudo-header such as `:authority`, which Envoy matches and Kuma's own rules mention.
func (v *validator) headerName(path, name string, pseudo bool) {
	if name == "" {
		v.add(path, "cannot be empty")
		return
	}
	token := name
	if pseudo {
		token = strings.TrimPrefix(name, ":")
	}
	if !isToken(token) {
		v.add(path, "must be a valid HTTP header name")
	}
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// regex checks that a pattern compiles. Envoy uses RE2, which Go's regexp syntax follows.
func (v *validator) regex(path, pattern string) {
	if _, err := regexp.Compile(pattern); err != nil {
		v.add(path, "invalid regular expression: "+strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
}
