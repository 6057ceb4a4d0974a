package kube

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// WriteDocuments renders objects as one multi-document YAML stream, `---` before each.
func WriteDocuments(objs []map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		buf.WriteString("---\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(o); err != nil {
			return nil, fmt.Errorf("encoding %v %v: %w", o["kind"], o["metadata"], err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encoding %v: %w", o["kind"], err)
		}
	}
	return buf.Bytes(), nil
}
