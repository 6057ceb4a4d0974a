package v1alpha1

import (
	"math"
	"strings"
)

// httpFilter checks one filter element, which is a oneof in Kuma's proto.
func (v *validator) httpFilter(path string, f HTTPFilter, hasPrefix, hostRewrite bool) {
	var set []string
	for _, s := range []struct {
		name string
		on   bool
	}{
		{"requestHeader", f.RequestHeader != nil},
		{"responseHeader", f.ResponseHeader != nil},
		{"mirror", f.Mirror != nil},
		{"redirect", f.Redirect != nil},
		{"rewrite", f.Rewrite != nil},
	} {
		if s.on {
			set = append(set, s.name)
		}
	}
	switch {
	case len(set) == 0:
		v.add(path, "cannot be empty")
	case len(set) > 1:
		v.add(path, "must set exactly one filter, found "+strings.Join(set, ", "))
	}

	if f.RequestHeader != nil {
		v.headerFilter(joinField(path, "requestHeader"), f.RequestHeader, hostRewrite)
	}
	if f.ResponseHeader != nil {
		// Kuma does not validate response headers; Envoy rejects the same mistakes in both.
		v.headerFilter(joinField(path, "responseHeader"), f.ResponseHeader, false)
	}
	if r := f.Redirect; r != nil {
		rp := joinField(path, "redirect")
		if r.Port > 0 {
			v.port(joinField(rp, "port"), r.Port)
		}
		code := joinField(rp, "statusCode")
		switch r.StatusCode {
		case 301, 302, 303, 307, 308:
		default:
			if r.StatusCode < 300 || r.StatusCode > 308 {
				v.add(code, "must be in the range [300, 308]")
			} else {
				// Kuma accepts these, then cannot map them to an Envoy redirect.
				v.add(code, "must be one of 301, 302, 303, 307, 308")
			}
		}
		if r.Path != nil {
			v.rewrite(joinField(rp, "path"), r.Path, hasPrefix)
		}
	}
	if m := f.Mirror; m != nil {
		mp := joinField(path, "mirror")
		pct := joinField(mp, "percentage")
		switch p := m.Percentage; {
		case p == nil:
			v.add(pct, "cannot be empty")
		case math.IsNaN(*p) || *p < 0 || *p > 100:
			v.add(pct, "has to be in [0.0 - 100.0] range")
		}
		v.tags(joinField(joinField(mp, "backend"), "destination"), m.Backend.Destination, selectorRules)
	}
	if f.Rewrite != nil {
		v.rewrite(joinField(path, "rewrite"), f.Rewrite, hasPrefix)
	}
}

func (v *validator) rewrite(path string, r *Rewrite, hasPrefix bool) {
	switch {
	case r.ReplaceFull != "" && r.ReplacePrefixMatch != "":
		v.add(path, "only one of replaceFull or replacePrefixMatch can be set")
	case r.ReplaceFull == "" && r.ReplacePrefixMatch == "" && !r.HostToBackendHostname:
		v.add(path, "cannot be empty")
	}
	if r.ReplacePrefixMatch != "" && !hasPrefix {
		v.add(joinField(path, "replacePrefixMatch"), "cannot be used without a match on path prefix")
	}
}

func (v *validator) headerFilter(path string, h *HeaderFilter, hostRewrite bool) {
	if len(h.Set) == 0 && len(h.Add) == 0 && len(h.Remove) == 0 {
		v.add(path, "cannot be empty")
	}
	for _, list := range []struct {
		name    string
		headers []Header
	}{{"set", h.Set}, {"add", h.Add}} {
		for i, hd := range list.headers {
			hp := joinIndex(joinField(path, list.name), i)
			switch {
			case hostRewrite && (hd.Name == ":authority" || hd.Name == "Host" || hd.Name == "host"):
				v.addf(hp, "cannot modify '%s' header, when route has set 'rewrite.host_to_backend_hostname' option", hd.Name)
			case strings.HasPrefix(hd.Name, ":") && hd.Name != ":authority":
				v.addf(joinField(hp, "name"), "pseudo-header %q cannot be modified", hd.Name)
			default:
				v.headerName(joinField(hp, "name"), hd.Name, true)
			}
			if hd.Value == "" {
				v.add(joinField(hp, "value"), "cannot be empty")
			}
		}
	}
	for i, name := range h.Remove {
		rp := joinIndex(joinField(path, "remove"), i)
		if strings.HasPrefix(name, ":") || strings.EqualFold(name, "host") {
			v.addf(rp, "%q cannot be removed", name)
			continue
		}
		v.headerName(rp, name, false)
	}
}
