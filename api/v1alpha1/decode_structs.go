package v1alpha1

import (
	"reflect"
	"strings"
	"sync"
)

type fieldInfo struct {
	index int
	name  string
}

var structInfos sync.Map // reflect.Type → map[string]fieldInfo

// structInfoOf maps each accepted key of a struct (json name and its snake_case form) to its field.
func structInfoOf(t reflect.Type) map[string]fieldInfo {
	if m, ok := structInfos.Load(t); ok {
		return m.(map[string]fieldInfo)
	}
	m := map[string]fieldInfo{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fi := fieldInfo{index: i, name: name}
		m[name] = fi
		if s := snakeCase(name); s != name {
			m[s] = fi
		}
	}
	structInfos.Store(t, m)
	return m
}

// snakeCase turns a json name back into its proto field name (`replacePrefixMatch` →
// `replace_prefix_match`), the other spelling protojson accepts.
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r - 'A' + 'a')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
