package render

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// Redacted replaces private keys in printed secrets.
const Redacted = "[redacted]"

// Document is the printable form of a dataplane's resources: each a protojson object with its
// `@type`, in the order Envoy would receive them.
type Document struct {
	Listeners []any `json:"listeners"`
	Routes    []any `json:"routes"`
	Clusters  []any `json:"clusters"`
	Endpoints []any `json:"endpoints"`
	Secrets   []any `json:"secrets"`
}

// NewDocument converts resources; private keys are always redacted.
func NewDocument(res *envoyres.Resources) (*Document, error) {
	d := &Document{}
	var err error
	if d.Listeners, err = objects(res.Listeners); err != nil {
		return nil, err
	}
	if d.Routes, err = objects(res.Routes); err != nil {
		return nil, err
	}
	if d.Clusters, err = objects(res.Clusters); err != nil {
		return nil, err
	}
	if d.Endpoints, err = objects(res.Endpoints); err != nil {
		return nil, err
	}
	if d.Secrets, err = objects(res.Secrets); err != nil {
		return nil, err
	}
	// Clusters too: an external service's client key is inline in its TLS context.
	for _, list := range [][]any{d.Secrets, d.Clusters} {
		for _, s := range list {
			redactKeys(s)
		}
	}
	return d, nil
}

func objects[T proto.Message](list []T) ([]any, error) {
	out := make([]any, 0, len(list))
	for _, m := range list {
		obj, err := Object(m)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// Object is m as a generic JSON value with `@type`. protojson's own output is deliberately
// unstable in whitespace, so it is re-encoded through encoding/json (sorted keys) by callers.
func Object(m proto.Message) (any, error) {
	a, err := anypb.New(m)
	if err != nil {
		return nil, fmt.Errorf("wrapping %T: %w", m, err)
	}
	raw, err := protojson.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("marshalling %T: %w", m, err)
	}
	var obj any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func redactKeys(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if k == "privateKey" {
				t[k] = map[string]any{"inlineString": Redacted}
				continue
			}
			redactKeys(child)
		}
	case []any:
		for _, child := range t {
			redactKeys(child)
		}
	}
}

// Marshal encodes v as `yaml` or `json` (indented), deterministically.
func Marshal(v any, format string) ([]byte, error) {
	switch format {
	case "json":
		out, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(out, '\n'), nil
	case "yaml", "":
		return yaml.Marshal(v)
	default:
		return nil, fmt.Errorf("output format %q: want yaml or json", format)
	}
}
