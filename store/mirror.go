package store

import (
	"bytes"
	"cmp"
	"slices"
)

// Mirror is what a source that owns some records (resource files, a Kubernetes cluster) does
// on every change: the one transaction that makes its records exactly want. Puts are for what
// is new (ExpectedVersion -1, so a record created meanwhile is a conflict) or changed (the
// current version); the owner's records not in want are deleted; what is unchanged is left
// alone, so a no-op change writes nothing. owned says which current records are the owner's.
// Replaced are the current records of other owners that want overwrites (the caller may warn).
func Mirror(current []Record, want []Put, owned func(Record) bool) (req ApplyRequest, replaced []Record) {
	byKey := make(map[Key]Put, len(want))
	for _, p := range want {
		p.ExpectedVersion = -1
		byKey[p.Key] = p
	}
	for _, rec := range current {
		put, wanted := byKey[rec.Key]
		switch {
		case wanted && bytes.Equal(put.Spec, rec.Spec) && put.Origin == rec.Origin:
			delete(byKey, rec.Key)
		case wanted:
			put.ExpectedVersion = rec.Version
			byKey[rec.Key] = put
			if !owned(rec) {
				replaced = append(replaced, rec)
			}
		case owned(rec):
			req.Deletes = append(req.Deletes, Delete{Key: rec.Key, ExpectedVersion: rec.Version})
		}
	}
	for _, p := range byKey {
		req.Puts = append(req.Puts, p)
	}
	slices.SortFunc(req.Puts, func(a, b Put) int { return CompareKeys(a.Key, b.Key) })
	slices.SortFunc(req.Deletes, func(a, b Delete) int { return CompareKeys(a.Key, b.Key) })
	return req, replaced
}

// CompareKeys orders keys by kind, mesh, then name.
func CompareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Mesh, b.Mesh), cmp.Compare(a.Name, b.Name))
}
