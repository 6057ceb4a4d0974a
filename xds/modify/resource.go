package modify

import (
	"slices"

	"google.golang.org/protobuf/proto"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/envoyres"
)

// resourceOps is what differs between the cluster and the listener operations: which list of
// the set they edit, which resources the match selects, and what a removal leaves unused.
type resourceOps[T named] struct {
	kind    string // as messages name it: "cluster", "listener"
	new     func() T
	list    func(*envoyres.Resources) *[]T
	matches func(T) bool
	// unmatched ends the "matches no ..." message: the match and why it may find nothing.
	unmatched string
	// dropUnused removes what only the removed resources loaded.
	dropUnused func(next *envoyres.Resources, removed []T)
}

// editResources applies an add, patch or remove of clusters or listeners (see the package doc).
func editResources[T named](a *applier, path string, op api.ModificationOperation, value string, k resourceOps[T]) {
	next := shallow(a.res)
	list := k.list(next)
	var touched []proto.Message
	switch op {
	case api.OpAdd:
		r := k.new()
		if err := parseValue(value, r); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
		if r.GetName() == "" {
			a.reject(path+".value", "the %s has no name", k.kind)
			return
		}
		if slices.Contains(namesOf(*list), r.GetName()) {
			a.reject(path+".value", "a %s named %q already exists (patch it instead)", k.kind, r.GetName())
			return
		}
		*list = append(*list, r)
		touched = append(touched, r)
	case api.OpPatch:
		patch := k.new()
		if err := parseValue(value, patch); err != nil {
			a.reject(path+".value", "%v", err)
			return
		}
		for i, r := range *list {
			if k.matches(r) {
				r2 := proto.Clone(r).(T)
				merge(r2, patch)
				(*list)[i] = r2
				touched = append(touched, r2)
			}
		}
		if len(touched) == 0 {
			a.noop(path+".match", "matches no %s%s", k.kind, k.unmatched)
			return
		}
	case api.OpRemove:
		var removed []T
		*list = slices.DeleteFunc(*list, func(r T) bool {
			if k.matches(r) {
				removed = append(removed, r)
				return true
			}
			return false
		})
		if len(removed) == 0 {
			a.noop(path+".match", "matches no %s%s", k.kind, k.unmatched)
			return
		}
		k.dropUnused(next, removed)
	default:
		a.reject(path+".operation", "%s", badResourceOp(op))
		return
	}
	a.commit(path, next, touched)
}
