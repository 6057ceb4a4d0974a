package build

import (
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// routeAttaches reports whether any of a route's selectors matches the listener tags (docs/kuma-compatibility.md#route-attachment).
func routeAttaches(selectors []api.Selector, listenerTags map[string]string) bool {
	for _, s := range selectors {
		if model.SelectorMatches(s.Match, listenerTags) {
			return true
		}
	}
	return false
}
