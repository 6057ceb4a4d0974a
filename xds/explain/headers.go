package explain

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// level is one place header mutations are configured (route, virtual host, route
// configuration, weighted cluster).
type level struct {
	add    []*corev3.HeaderValueOption
	remove []string
}

// headerChanges folds the levels into their net effect. Levels come most specific first,
// which is Envoy's evaluation order unless the route configuration sets
// most_specific_header_mutations_wins (reverse); a later level overrides an earlier one, and
// within a level Envoy removes before it adds. The result reads: remove, then set, then add.
func headerChanges(mostSpecificWins bool, levels ...level) *HeaderChanges {
	if mostSpecificWins {
		for i, j := 0, len(levels)-1; i < j; i, j = i+1, j-1 {
			levels[i], levels[j] = levels[j], levels[i]
		}
	}
	hc := &HeaderChanges{}
	drop := func(name string) {
		name = asciiLower(name)
		filter := func(vs []HeaderValue) []HeaderValue {
			out := vs[:0]
			for _, v := range vs {
				if asciiLower(v.Name) != name {
					out = append(out, v)
				}
			}
			return out
		}
		hc.Set, hc.Add = filter(hc.Set), filter(hc.Add)
	}
	for _, l := range levels {
		for _, n := range l.remove {
			drop(n)
			if !containsFold(hc.Remove, n) {
				hc.Remove = append(hc.Remove, n)
			}
		}
		for _, o := range l.add {
			h := o.GetHeader()
			if h == nil {
				continue
			}
			v := h.GetValue()
			if v == "" {
				v = string(h.GetRawValue())
			}
			if v == "" && !o.GetKeepEmptyValue() {
				continue // Envoy skips empty values unless told to keep them.
			}
			hv := HeaderValue{Name: h.GetKey(), Value: v}
			switch appendAction(o) {
			case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
				drop(hv.Name)
				hc.Set = append(hc.Set, hv)
			case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
				hv.IfPresent = true
				hc.Set = append(hc.Set, hv)
			case corev3.HeaderValueOption_ADD_IF_ABSENT:
				hv.IfAbsent = true
				hc.Add = append(hc.Add, hv)
			default:
				hc.Add = append(hc.Add, hv)
			}
		}
	}
	if len(hc.Set) == 0 && len(hc.Add) == 0 && len(hc.Remove) == 0 {
		return nil
	}
	return hc
}

// appendAction honours the deprecated `append` flag, which wins when set.
func appendAction(o *corev3.HeaderValueOption) corev3.HeaderValueOption_HeaderAppendAction {
	if a := o.GetAppend(); a != nil {
		if a.GetValue() {
			return corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
		return corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	}
	return o.GetAppendAction()
}

func containsFold(list []string, s string) bool {
	s = asciiLower(s)
	for _, x := range list {
		if asciiLower(x) == s {
			return true
		}
	}
	return false
}
