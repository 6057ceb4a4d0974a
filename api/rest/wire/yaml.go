package wire

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// JSONToYAML re-renders a JSON document as block-style YAML, keeping the key order of the JSON
// (so `type`, `mesh` and `name` stay first, unlike a round trip through a Go map) and quoting
// strings that would otherwise read back as numbers or booleans.
func JSONToYAML(data []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("json to yaml: %w", err)
	}
	plain(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("json to yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("json to yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// plain drops the flow and quoting styles the JSON parse left on every node; the encoder then
// quotes only the strings whose plain form would change type.
func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}
