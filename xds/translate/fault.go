package translate

import (
	"math"
	"regexp"
	"sort"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// faultFilters are one envoy.filters.http.fault per fault, in IR order. Envoy accepts several
// filters of one name; Kuma configures its FaultInjections the same way.
func faultFilters(faults []ir.Fault) ([]*hcmv3.HttpFilter, error) {
	var out []*hcmv3.HttpFilter
	for _, f := range faults {
		a, err := toAny(httpFault(f))
		if err != nil {
			return nil, err
		}
		out = append(out, &hcmv3.HttpFilter{
			Name:       wellknown.Fault,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a},
		})
	}
	return out, nil
}

func httpFault(f ir.Fault) *faultv3.HTTPFault {
	out := &faultv3.HTTPFault{Headers: sourceTagMatchers(f.SourceTags)}
	if d := f.Delay; d != nil {
		out.Delay = &faultcommonv3.FaultDelay{
			FaultDelaySecifier: &faultcommonv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(d.Value)},
			Percentage:         faultPercent(d.Percent),
		}
	}
	if a := f.Abort; a != nil {
		out.Abort = &faultv3.FaultAbort{
			ErrorType:  &faultv3.FaultAbort_HttpStatus{HttpStatus: a.HTTPStatus},
			Percentage: faultPercent(a.Percent),
		}
	}
	if b := f.ResponseBandwidth; b != nil {
		out.ResponseRateLimit = &faultcommonv3.FaultRateLimit{
			LimitType: &faultcommonv3.FaultRateLimit_FixedLimit_{
				FixedLimit: &faultcommonv3.FaultRateLimit_FixedLimit{LimitKbps: b.LimitKbps},
			},
			Percentage: faultPercent(b.Percent),
		}
	}
	return out
}

// faultPercent is a percentage in [0, 100] with four decimals, as parts per million.
func faultPercent(p float64) *typev3.FractionalPercent {
	return &typev3.FractionalPercent{
		Numerator:   uint32(math.Round(p * 10000)),
		Denominator: typev3.FractionalPercent_MILLION,
	}
}

// sourceTagMatchers requires each source tag in x-kuma-tags (`&k=v&k2=v2&`): one header
// matcher per tag, sorted by key, with a safe_regex string_match of `.*&k=v&.*` (key and value
// quoted), or `.*&k=[^&]*&.*` for the value `*`. Envoy ANDs the matchers and matches a regex
// against the whole value, hence the `.*` on both sides.
func sourceTagMatchers(tags map[string]string) []*routev3.HeaderMatcher {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*routev3.HeaderMatcher
	for _, k := range keys {
		value := regexp.QuoteMeta(tags[k])
		if tags[k] == "*" {
			value = "[^&]*"
		}
		out = append(out, &routev3.HeaderMatcher{
			Name:                 names.TagsHeader,
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: safeRegex(".*&" + regexp.QuoteMeta(k) + "=" + value + "&.*")},
		})
	}
	return out
}
