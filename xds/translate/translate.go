// Package translate turns one dataplane's IR into Envoy v3 resources. It sees nothing but the
// IR and is a pure function of it (no clock, no lookups, no map-order dependence), so the same
// IR always yields byte-identical resources: the snapshot version is a hash of them.
package translate

import (
	"errors"
	"fmt"
	"sort"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// bufferLimit is Kuma's per-connection buffer for gateway listeners and clusters.
const bufferLimit = 32768

// Translate validates p and returns its Envoy resources, each type sorted by name. Envoy's own
// field rules (ValidateAll) are checked once, by snapshot.New, the gate every published
// configuration passes; checking here too doubled the cost of a rebuild.
func Translate(p *ir.Proxy) (*envoyres.Resources, error) {
	if p == nil {
		return nil, errors.New("translate: nil proxy")
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("proxy %q: %w", p.Node, err)
	}
	out := &envoyres.Resources{}
	var errs []error
	for _, l := range p.Listeners {
		lis, rcs, err := listener(l)
		if err != nil {
			errs = append(errs, fmt.Errorf("listener %q: %w", l.Name, err))
			continue
		}
		out.Listeners = append(out.Listeners, lis)
		out.Routes = append(out.Routes, rcs...)
	}
	for _, c := range p.Clusters {
		cl, err := cluster(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("cluster %q: %w", c.Name, err))
			continue
		}
		out.Clusters = append(out.Clusters, cl)
		if hasLoadAssignment(c) {
			out.Endpoints = append(out.Endpoints, loadAssignment(c))
		}
	}
	for _, s := range p.Secrets {
		sec, err := secret(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("secret %q: %w", s.Name, err))
			continue
		}
		out.Secrets = append(out.Secrets, sec)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sortByName(out.Listeners)
	sortByName(out.Routes)
	sortByName(out.Clusters)
	sort.Slice(out.Endpoints, func(i, j int) bool {
		return out.Endpoints[i].GetClusterName() < out.Endpoints[j].GetClusterName()
	})
	sortByName(out.Secrets)
	return out, nil
}

type named interface {
	proto.Message
	GetName() string
}

func sortByName[T named](rs []T) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].GetName() < rs[j].GetName() })
}

// ads is the config source of every RDS, EDS and SDS reference: all of a dataplane's
// resources travel over its one ADS stream.
func ads() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func sdsSecret(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: ads()}
}

// tlsSocket wraps a Downstream- or UpstreamTlsContext as Envoy's TLS transport socket.
func tlsSocket(ctx proto.Message) (*corev3.TransportSocket, error) {
	a, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{
		Name:       wellknown.TransportSocketTls,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a},
	}, nil
}

// toAny packs deterministically: the packed bytes feed the snapshot's content hash.
func toAny(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, fmt.Errorf("packing %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return a, nil
}

// duration leaves zero durations unset so that Envoy applies its own default.
func duration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// meshgateMetadata records provenance under names.MetadataNamespace; `explain` reads it back.
func meshgateMetadata(fields map[string]*structpb.Value) *corev3.Metadata {
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		names.MetadataNamespace: {Fields: fields},
	}}
}

func stringStruct(m map[string]string) *structpb.Struct {
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(m))}
	for k, v := range m {
		s.Fields[k] = structpb.NewStringValue(v)
	}
	return s
}
