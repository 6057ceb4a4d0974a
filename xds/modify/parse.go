package modify

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// resolver resolves `@type` through the global registry and remembers what it could not find,
// so that an unknown extension is reported by name rather than as protojson's positional error.
type resolver struct{ missing []string }

func (r *resolver) FindMessageByName(n protoreflect.FullName) (protoreflect.MessageType, error) {
	return protoregistry.GlobalTypes.FindMessageByName(n)
}

func (r *resolver) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		r.missing = append(r.missing, url)
	}
	return mt, err
}

func (r *resolver) FindExtensionByName(n protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByName(n)
}

func (r *resolver) FindExtensionByNumber(m protoreflect.FullName, n protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	return protoregistry.GlobalTypes.FindExtensionByNumber(m, n)
}

// protoErrPrefix is protojson's `proto: (line 1:23): ` or `proto: syntax error (line 1:2): `;
// the position is in the JSON converted from the user's YAML, so it means nothing to them.
// protojson randomly puts a non-breaking space after `proto:` so that nobody matches its
// messages exactly; we only strip the prefix.
var protoErrPrefix = regexp.MustCompile(`^proto:[\s\x{a0}]*(syntax error[\s\x{a0}]*)?(\(line \d+:\d+\):[\s\x{a0}]*)?`)

// toJSON converts a YAML (or JSON) value to JSON.
func toJSON(value string) ([]byte, error) {
	if strings.TrimSpace(value) == "" {
		return nil, errors.New("is empty")
	}
	js, err := yaml.YAMLToJSON([]byte(value))
	if err != nil {
		return nil, fmt.Errorf("is not YAML or JSON: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return js, nil
}

// parseValue decodes a YAML or JSON value into m, strictly: unknown fields and unknown `@type`s
// are errors.
func parseValue(value string, m proto.Message) error {
	js, err := toJSON(value)
	if err != nil {
		return err
	}
	return unmarshal(js, m)
}

func unmarshal(js []byte, m proto.Message) error {
	r := &resolver{}
	if err := (protojson.UnmarshalOptions{Resolver: r}).Unmarshal(js, m); err != nil {
		if len(r.missing) > 0 {
			return unknownType(r.missing[0])
		}
		msg := strings.ReplaceAll(protoErrPrefix.ReplaceAllString(err.Error(), ""), "\u00a0", " ")
		return fmt.Errorf("%s in %s", msg, m.ProtoReflect().Descriptor().FullName())
	}
	return nil
}

func unknownType(url string) error {
	return fmt.Errorf("unknown @type %q: meshgate does not include this Envoy extension", url)
}

// rawResource is a decoded conf.resources entry.
type rawResource struct {
	msg  proto.Message
	kind string
}

// parseRaw decodes a raw resource: the type its `@type` names, else a Cluster or a Listener.
func parseRaw(value string) (rawResource, error) {
	js, err := toJSON(value)
	if err != nil {
		return rawResource{}, err
	}
	var probe map[string]any
	if err := json.Unmarshal(js, &probe); err != nil || probe == nil {
		return rawResource{}, errors.New("must be a YAML or JSON mapping")
	}
	if t, ok := probe["@type"]; ok {
		url, _ := t.(string)
		a := &anypb.Any{}
		if err := unmarshal(js, a); err != nil {
			return rawResource{}, err
		}
		m, err := a.UnmarshalNew()
		if err != nil {
			return rawResource{}, unknownType(url)
		}
		kind := resourceKind(m)
		if kind == "" {
			return rawResource{}, fmt.Errorf("@type %q is not a resource meshgate serves (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment, Secret)", url)
		}
		return rawResource{msg: m, kind: kind}, nil
	}
	c := &clusterv3.Cluster{}
	cerr := unmarshal(js, c)
	if cerr == nil {
		return rawResource{msg: c, kind: kindCluster}, nil
	}
	l := &listenerv3.Listener{}
	if err := unmarshal(js, l); err == nil {
		return rawResource{msg: l, kind: kindListener}, nil
	}
	return rawResource{}, fmt.Errorf("has no @type and is neither a Cluster nor a Listener (as a Cluster: %v)", cerr)
}

// Resource kinds, as messages name them.
const (
	kindListener = "listener"
	kindRoute    = "route configuration"
	kindCluster  = "cluster"
	kindEndpoint = "ClusterLoadAssignment"
	kindSecret   = "secret"
)

func resourceKind(m proto.Message) string {
	switch m.(type) {
	case *listenerv3.Listener:
		return kindListener
	case *routev3.RouteConfiguration:
		return kindRoute
	case *clusterv3.Cluster:
		return kindCluster
	case *endpointv3.ClusterLoadAssignment:
		return kindEndpoint
	case *tlsv3.Secret:
		return kindSecret
	}
	return ""
}

// resourceName is the name xDS knows a resource by.
func resourceName(m proto.Message) string {
	if a, ok := m.(*endpointv3.ClusterLoadAssignment); ok {
		return a.GetClusterName()
	}
	if n, ok := m.(interface{ GetName() string }); ok {
		return n.GetName()
	}
	return ""
}

// setResourceName names an unnamed resource.
func setResourceName(m proto.Message, name string) {
	switch r := m.(type) {
	case *listenerv3.Listener:
		r.Name = name
	case *routev3.RouteConfiguration:
		r.Name = name
	case *clusterv3.Cluster:
		r.Name = name
	case *endpointv3.ClusterLoadAssignment:
		r.ClusterName = name
	case *tlsv3.Secret:
		r.Name = name
	}
}
