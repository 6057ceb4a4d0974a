package modify

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

// checkFilterType requires a filter's typed_config to be of the filter family (`network`,
// `http`), or a TypedStruct.
func checkFilterType(tc *anypb.Any, family string) error {
	if tc == nil {
		return nil
	}
	t := envoyres.TypeName(tc)
	if strings.HasPrefix(t, "envoy.extensions.filters."+family+".") || t == "xds.type.v3.TypedStruct" || t == "udpa.type.v1.TypedStruct" {
		return nil
	}
	return fmt.Errorf("typed_config %q is not an Envoy %s filter (envoy.extensions.filters.%s.*)", t, family, family)
}

type named interface {
	proto.Message
	GetName() string
}

// edit applies a filter operation to one list of filters and reports whether it changed.
// addLast goes before a terminal filter that ends the list (the router, tcp_proxy, ...), since
// nothing may follow it; addBefore and addAfter anchor at the first filter named anchor; patch
// and remove act on every filter named anchor (remove on every filter when anchor is empty).
func edit[T named](list []T, op api.ModificationOperation, anchor string, value T, terminal func(T) bool, patch func(T) (T, error)) ([]T, bool, error) {
	add := func(i int) []T { return slices.Insert(slices.Clone(list), i, proto.Clone(value).(T)) }
	switch op {
	case api.OpAddFirst:
		return add(0), true, nil
	case api.OpAddLast:
		if n := len(list); n > 0 && terminal(list[n-1]) {
			return add(n - 1), true, nil
		}
		return add(len(list)), true, nil
	case api.OpAddBefore, api.OpAddAfter:
		i := slices.IndexFunc(list, func(f T) bool { return f.GetName() == anchor })
		if i < 0 {
			return list, false, nil
		}
		if op == api.OpAddAfter {
			i++
		}
		return add(i), true, nil
	case api.OpPatch:
		out := slices.Clone(list)
		changed := false
		for i, f := range out {
			if f.GetName() != anchor {
				continue
			}
			p, err := patch(f)
			if err != nil {
				return nil, false, err
			}
			out[i], changed = p, true
		}
		return out, changed, nil
	case api.OpRemove:
		out := slices.DeleteFunc(slices.Clone(list), func(f T) bool { return anchor == "" || f.GetName() == anchor })
		return out, len(out) != len(list), nil
	}
	return list, false, nil
}

// filterTally counts what a filter modification reached, for its "nothing changed" message.
type filterTally struct {
	listeners, lists int
}

func (a *applier) filterNoop(path, what string, op api.ModificationOperation, anchor, listener, origin string, t filterTally) {
	switch {
	case t.listeners == 0:
		a.noop(path+".match", "matches no listener%s%s", describe("listenerName", listener, "origin", origin), originHint(origin))
	case t.lists == 0 && what == "HTTP filter":
		a.noop(path+".match", "the matched listeners have no HTTP connection manager")
	case t.lists == 0:
		a.noop(path+".match", "the matched listeners have no filter chains")
	case op == api.OpAddFirst || op == api.OpAddLast:
		a.noop(path, "nothing to change")
	default:
		a.noop(path+".match.name", "no %s named %q in the matched listeners", what, anchor)
	}
}
