package v1alpha1

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is the one problem type: a validation error, a diagnostic of a built proxy
// (ir.Proxy.Diagnostics), a cross-mesh conflict, a ProxyTemplate modification that was
// rejected. It is located precisely enough for a user to fix it without searching:
// `routes.yaml:14: MeshGatewayRoute default/edge-route: conf.http.rules[0].matches[0].path.value: must be an absolute path`.
// Whoever holds the resource fills in File and Line (Meta.Problem, Locate), so nobody has to
// find the resource again by its display name.
//
// The JSON form is Resource, Field and Message, capitalized: the control plane's status API,
// `meshgate inspect` and the golden diagnostics.yaml files carried it before File and Line
// joined, and the file a resource was read from is the operator's, not the API's.
type FieldError struct {
	File string `json:"-"`
	Line int    `json:"-"`
	// Resource is the resource's display name (`MeshGateway default/edge`); empty for errors
	// about a document that could not be decoded into a resource at all.
	Resource string `json:"Resource"`
	Field    string `json:"Field"`
	Message  string `json:"Message"`
}

func (e FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Resource != "" {
		b.WriteString(e.Resource)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unlocated is Error without the file and line: `Resource: field: message`, as `meshgate
// render` and `inspect` print a diagnostic and the control plane logs a cross-mesh conflict.
func (e FieldError) Unlocated() string {
	e.File = ""
	return e.Error()
}

// ErrorList is every violation found, in file and line order.
type ErrorList []FieldError

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Err returns nil for an empty list, so callers can `if err := l.Err(); err != nil`.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sort orders errors by file, line, resource and field so output is stable.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.Field < b.Field
	})
}
