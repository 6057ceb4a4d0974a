package wire

import (
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Plural is a kind's collection name in URLs, as Kuma spells it: the lowercase kind in English
// plural (`meshes`, `dataplanes`, `meshgatewayroutes`, and `meshretries` for a later MeshRetry),
// so that kinds registered later get endpoints without a table to update.
func Plural(kind api.Kind) string {
	s := strings.ToLower(string(kind))
	switch {
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"),
		strings.HasSuffix(s, "sh"), strings.HasSuffix(s, "ch"):
		return s + "es"
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}

// KindForPlural finds the registered kind whose URL collection name is plural.
func KindForPlural(plural string) (api.KindInfo, bool) {
	for _, k := range api.Kinds() {
		if Plural(k) == plural {
			return api.LookupKind(k)
		}
	}
	return api.KindInfo{}, false
}

// ParseKind accepts the names a user types, as kumactl does: the plural (`meshgateways`), the
// singular (`meshgateway`) and the kind itself in any case (`MeshGateway`).
func ParseKind(name string) (api.KindInfo, bool) {
	lower := strings.ToLower(name)
	for _, k := range api.Kinds() {
		if strings.ToLower(string(k)) == lower || Plural(k) == lower {
			return api.LookupKind(k)
		}
	}
	return api.KindInfo{}, false
}

// KindNames lists the plural of every registered kind, for error messages and help.
func KindNames() []string {
	kinds := api.Kinds()
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = Plural(k)
	}
	return out
}
