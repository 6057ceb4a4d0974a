package v1alpha1

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// TrafficRoute (api/mesh/v1alpha1/traffic_route.proto) routes the traffic of the dataplanes its
// sources match to the services its destinations match. meshgate reads and validates it so that
// Kuma configurations load, but gateways ignore it, as Kuma's builtin gateway does: their routing
// comes from MeshGatewayRoute.
type TrafficRoute struct {
	Meta `json:"-"`
	Spec TrafficRouteSpec
}

type TrafficRouteSpec struct {
	Sources      []Selector        `json:"sources"`
	Destinations []Selector        `json:"destinations"`
	Conf         *TrafficRouteConf `json:"conf"`
}

func (r *TrafficRoute) SourceSelectors() []map[string]string {
	return selectorMaps(r.Spec.Sources)
}

func (r *TrafficRoute) DestinationSelectors() []map[string]string {
	return selectorMaps(r.Spec.Destinations)
}

// TrafficRouteConf sends traffic to Destination or over Split (exactly one of them), unless an
// HTTP rule matches first.
type TrafficRouteConf struct {
	Split        []TrafficRouteSplit       `json:"split,omitempty"`
	LoadBalancer *TrafficRouteLoadBalancer `json:"loadBalancer,omitempty"`
	Destination  map[string]string         `json:"destination,omitempty"`
	HTTP         []TrafficRouteHTTP        `json:"http,omitempty"`
}

// TrafficRouteSplit sends a share of the traffic proportional to Weight to the endpoints
// Destination selects; a weight of 0 sends none.
type TrafficRouteSplit struct {
	Weight      *uint32           `json:"weight"`
	Destination map[string]string `json:"destination"`
}

// TrafficRouteLoadBalancer is a oneof: at most one policy is set.
type TrafficRouteLoadBalancer struct {
	RoundRobin   *TrafficRouteRoundRobin   `json:"roundRobin,omitempty"`
	LeastRequest *TrafficRouteLeastRequest `json:"leastRequest,omitempty"`
	RingHash     *TrafficRouteRingHash     `json:"ringHash,omitempty"`
	Random       *TrafficRouteRandom       `json:"random,omitempty"`
	Maglev       *TrafficRouteMaglev       `json:"maglev,omitempty"`
}

type TrafficRouteRoundRobin struct{}

type TrafficRouteLeastRequest struct {
	ChoiceCount uint32 `json:"choiceCount,omitempty"`
}

type TrafficRouteRingHash struct {
	// HashFunction is XX_HASH or MURMUR_HASH_2.
	HashFunction string `json:"hashFunction"`
	MinRingSize  uint64 `json:"minRingSize,omitempty"`
	MaxRingSize  uint64 `json:"maxRingSize,omitempty"`
}

type TrafficRouteRandom struct{}

type TrafficRouteMaglev struct{}

// TrafficRouteHTTP is one HTTP rule: requests that Match are modified by Modify and sent to
// Destination or over Split.
type TrafficRouteHTTP struct {
	Match       *TrafficRouteHTTPMatch  `json:"match,omitempty"`
	Modify      *TrafficRouteHTTPModify `json:"modify,omitempty"`
	Split       []TrafficRouteSplit     `json:"split,omitempty"`
	Destination map[string]string       `json:"destination,omitempty"`
}

type TrafficRouteHTTPMatch struct {
	Method  *TrafficRouteStringMatcher           `json:"method,omitempty"`
	Path    *TrafficRouteStringMatcher           `json:"path,omitempty"`
	Headers map[string]TrafficRouteStringMatcher `json:"headers,omitempty"`
}

// TrafficRouteStringMatcher is a oneof: exactly one of Prefix, Exact and Regex is set.
type TrafficRouteStringMatcher struct {
	Prefix *string `json:"prefix,omitempty"`
	Exact  *string `json:"exact,omitempty"`
	Regex  *string `json:"regex,omitempty"`
}

type TrafficRouteHTTPModify struct {
	Path            *TrafficRouteModifyPath    `json:"path,omitempty"`
	Host            *TrafficRouteModifyHost    `json:"host,omitempty"`
	RequestHeaders  *TrafficRouteModifyHeaders `json:"requestHeaders,omitempty"`
	ResponseHeaders *TrafficRouteModifyHeaders `json:"responseHeaders,omitempty"`
}

type TrafficRouteRegexReplace struct {
	Pattern      string `json:"pattern"`
	Substitution string `json:"substitution"`
}

// TrafficRouteModifyPath is a oneof of RewritePrefix and Regex.
type TrafficRouteModifyPath struct {
	RewritePrefix *string                   `json:"rewritePrefix,omitempty"`
	Regex         *TrafficRouteRegexReplace `json:"regex,omitempty"`
}

// TrafficRouteModifyHost is a oneof of Value and FromPath.
type TrafficRouteModifyHost struct {
	Value    *string                   `json:"value,omitempty"`
	FromPath *TrafficRouteRegexReplace `json:"fromPath,omitempty"`
}

type TrafficRouteModifyHeaders struct {
	Add    []TrafficRouteHeaderAdd    `json:"add,omitempty"`
	Remove []TrafficRouteHeaderRemove `json:"remove,omitempty"`
}

type TrafficRouteHeaderAdd struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Append bool   `json:"append,omitempty"`
}

type TrafficRouteHeaderRemove struct {
	Name string `json:"name"`
}

// VirtualOutbound (api/mesh/v1alpha1/virtual_outbound.proto) gives the dataplanes its selectors
// match extra outbounds: a hostname and port computed from each outbound's tags. Gateways have
// no outbounds, so meshgate reads and validates it but does not apply it to them.
type VirtualOutbound struct {
	Meta `json:"-"`
	Spec VirtualOutboundSpec
}

type VirtualOutboundSpec struct {
	Selectors []Selector           `json:"selectors"`
	Conf      *VirtualOutboundConf `json:"conf"`
}

// Selectors returns the `match` maps of the selectors, in order.
func (o *VirtualOutbound) Selectors() []map[string]string {
	return selectorMaps(o.Spec.Selectors)
}

// VirtualOutboundConf: Host and Port are Go templates evaluated over Parameters.
type VirtualOutboundConf struct {
	Host       string                     `json:"host"`
	Port       string                     `json:"port"`
	Parameters []VirtualOutboundParameter `json:"parameters,omitempty"`
}

// VirtualOutboundParameter makes the value of the tag TagKey (Name when empty) available to the
// templates as `{{.Name}}`.
type VirtualOutboundParameter struct {
	Name   string `json:"name"`
	TagKey string `json:"tagKey,omitempty"`
}

// TagKeyOrName is the tag the parameter reads.
func (p VirtualOutboundParameter) TagKeyOrName() string {
	if p.TagKey == "" {
		return p.Name
	}
	return p.TagKey
}

// EvalHost evaluates the host template over an outbound's tags, as Kuma does; the result must
// be a DNS name.
func (o *VirtualOutbound) EvalHost(tags map[string]string) (string, error) {
	if o.Spec.Conf == nil {
		return "", errors.New("no conf")
	}
	s, err := o.evalTemplate(o.Spec.Conf.Host, tags)
	if err != nil {
		return "", err
	}
	if !isDNSName(s) {
		return "", fmt.Errorf("evaluation of template with parameters didn't return a valid dns name result=%q", s)
	}
	return s, nil
}

// EvalPort evaluates the port template over an outbound's tags, as Kuma does; the result must
// be a port number.
func (o *VirtualOutbound) EvalPort(tags map[string]string) (uint32, error) {
	if o.Spec.Conf == nil {
		return 0, errors.New("no conf")
	}
	s, err := o.evalTemplate(o.Spec.Conf.Port, tags)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("evaluation of template with parameters didn't evaluate to a parsable number result=%q", s)
	}
	if i <= 0 || i > 65535 {
		return 0, fmt.Errorf("evaluation of template returned a port outside of the range [1..65535] result=%d", i)
	}
	return uint32(i), nil
}

// maxTemplateOutput bounds what a template may write: a host name is at most 253 characters,
// and a template must not be able to make meshgate build huge strings.
const maxTemplateOutput = 4096

func (o *VirtualOutbound) evalTemplate(text string, tags map[string]string) (string, error) {
	entries := map[string]string{}
	for _, p := range o.Spec.Conf.Parameters {
		if val, ok := tags[p.TagKeyOrName()]; ok {
			entries[p.Name] = val
		}
	}
	tmpl, err := template.New("").Funcs(template.FuncMap{"printf": boundedPrintf}).Parse(text)
	if err == nil {
		err = boundedTemplate(tmpl.Tree.Root)
	}
	if err != nil {
		return "", fmt.Errorf("failed compiling gotemplate error=%q", err.Error())
	}
	out := &limitedBuilder{limit: maxTemplateOutput}
	if err := tmpl.Execute(out, entries); err != nil {
		return "", fmt.Errorf("pre evaluation of template with parameters failed with error=%q", err.Error())
	}
	return out.String(), nil
}

// boundedTemplate rejects the actions that can run for long without writing anything (which
// maxTemplateOutput would stop): `range` (over an integer it loops that many times) and
// `template` (recursion). Host and port templates have no use for them.
func boundedTemplate(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := boundedTemplate(c); err != nil {
				return err
			}
		}
	case *parse.IfNode:
		return errors.Join(boundedTemplate(n.List), boundedTemplate(n.ElseList))
	case *parse.WithNode:
		return errors.Join(boundedTemplate(n.List), boundedTemplate(n.ElseList))
	case *parse.RangeNode:
		return errors.New("range actions are not supported")
	case *parse.TemplateNode:
		return errors.New("template actions are not supported")
	}
	return nil
}

// limitedBuilder is a strings.Builder that fails once more than limit bytes are written.
type limitedBuilder struct {
	strings.Builder
	limit int
}

func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, fmt.Errorf("output longer than %d bytes", b.limit)
	}
	return b.Builder.Write(p)
}

// boundedPrintf is text/template's printf without widths or precisions that would build huge
// strings (`{{printf "%999999999d" 1}}`) or read them from the arguments.
func boundedPrintf(format string, args ...any) (string, error) {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		// Flags, width, precision and argument index, up to the verb.
		n := 0
		for i++; i < len(format); i++ {
			c := format[i]
			if c == '*' {
				return "", errors.New("printf: * widths are not supported")
			}
			if c >= '0' && c <= '9' {
				if n = n*10 + int(c-'0'); n > 255 {
					return "", errors.New("printf: width or precision too large")
				}
				continue
			}
			n = 0
			if strings.IndexByte("+-# .[]", c) < 0 {
				break // the verb, or the second % of %%
			}
		}
	}
	return fmt.Sprintf(format, args...), nil
}
