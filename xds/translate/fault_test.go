package translate

import (
	"regexp"
	"testing"
	"time"

	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func translateFault(t *testing.T, f ir.Fault) *faultv3.HTTPFault {
	t.Helper()
	fs, err := faultFilters([]ir.Fault{f})
	require.NoError(t, err)
	require.Len(t, fs, 1)
	requireValid(t, fs[0])
	assert.Equal(t, "envoy.filters.http.fault", fs[0].GetName())
	out := unpack(t, fs[0].GetTypedConfig(), &faultv3.HTTPFault{})
	requireValid(t, out)
	return out
}

func TestFaultKinds(t *testing.T) {
	cases := []struct {
		name  string
		in    ir.Fault
		check func(t *testing.T, f *faultv3.HTTPFault)
	}{
		{"delay", ir.Fault{Delay: &ir.FaultDelay{Percent: 50, Value: 5 * time.Second}}, func(t *testing.T, f *faultv3.HTTPFault) {
			assert.Equal(t, 5*time.Second, f.GetDelay().GetFixedDelay().AsDuration())
			assert.Equal(t, uint32(500000), f.GetDelay().GetPercentage().GetNumerator())
			assert.Equal(t, typev3.FractionalPercent_MILLION, f.GetDelay().GetPercentage().GetDenominator())
			assert.Nil(t, f.GetAbort())
			assert.Nil(t, f.GetResponseRateLimit())
		}},
		{"abort", ir.Fault{Abort: &ir.FaultAbort{Percent: 12.5, HTTPStatus: 503}}, func(t *testing.T, f *faultv3.HTTPFault) {
			assert.Equal(t, uint32(503), f.GetAbort().GetHttpStatus())
			assert.Equal(t, uint32(125000), f.GetAbort().GetPercentage().GetNumerator())
			assert.Equal(t, typev3.FractionalPercent_MILLION, f.GetAbort().GetPercentage().GetDenominator())
			assert.Nil(t, f.GetDelay())
		}},
		{"response bandwidth", ir.Fault{ResponseBandwidth: &ir.FaultBandwidth{Percent: 100, LimitKbps: 64}}, func(t *testing.T, f *faultv3.HTTPFault) {
			assert.Equal(t, uint64(64), f.GetResponseRateLimit().GetFixedLimit().GetLimitKbps())
			assert.Equal(t, uint32(1000000), f.GetResponseRateLimit().GetPercentage().GetNumerator())
		}},
		{"all three", ir.Fault{
			Delay: &ir.FaultDelay{Percent: 0.0001, Value: time.Millisecond}, Abort: &ir.FaultAbort{Percent: 0, HTTPStatus: 200},
			ResponseBandwidth: &ir.FaultBandwidth{Percent: 33.33333, LimitKbps: 1},
		}, func(t *testing.T, f *faultv3.HTTPFault) {
			assert.Equal(t, uint32(1), f.GetDelay().GetPercentage().GetNumerator())
			assert.Equal(t, uint32(0), f.GetAbort().GetPercentage().GetNumerator())
			assert.Equal(t, uint32(333333), f.GetResponseRateLimit().GetPercentage().GetNumerator())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := translateFault(t, c.in)
			assert.Empty(t, out.GetHeaders(), "no source tags: every request")
			c.check(t, out)
		})
	}
}

func TestFaultSourceTags(t *testing.T) {
	out := translateFault(t, ir.Fault{
		SourceTags: map[string]string{"version": "*", "kuma.io/service": "front.end", "env": "a+b"},
		Abort:      &ir.FaultAbort{Percent: 100, HTTPStatus: 500},
	})
	hs := out.GetHeaders()
	require.Len(t, hs, 3)
	var got []string
	for _, h := range hs {
		assert.Equal(t, "x-kuma-tags", h.GetName())
		assert.Nil(t, h.GetSafeRegexMatch(), "the non-deprecated string_match form")
		got = append(got, h.GetStringMatch().GetSafeRegex().GetRegex())
	}
	assert.Equal(t, []string{`.*&env=a\+b&.*`, `.*&kuma\.io/service=front\.end&.*`, `.*&version=[^&]*&.*`}, got, "sorted by key, quoted")

	// Envoy matches the whole header value (RE2 full match); Go's RE2 anchored behaves alike.
	header := "&env=a+b&kuma.io/service=front.end&version=v1&"
	for _, re := range got {
		assert.True(t, regexp.MustCompile("^(?:"+re+")$").MatchString(header), re)
	}
	assert.False(t, regexp.MustCompile("^(?:"+got[1]+")$").MatchString("&kuma.io/service=frontXend&"), "dots are literal")
	assert.False(t, regexp.MustCompile("^(?:"+got[2]+")$").MatchString("&kuma.io/service=front.end&"), "a * value still needs the key")
}

// Faults run before the router, in IR order.
func TestFaultsPrecedeRouter(t *testing.T) {
	h := *fixture().Listeners[1].FilterChains[0].HTTP
	h.Faults = []ir.Fault{
		{Name: "first", Delay: &ir.FaultDelay{Percent: 1, Value: time.Second}},
		{Name: "second", Abort: &ir.FaultAbort{Percent: 1, HTTPStatus: 418}},
	}
	out := translateHCM(t, h)
	fs := out.GetHttpFilters()
	require.Len(t, fs, 3)
	assert.Equal(t, []string{wellknown.Fault, wellknown.Fault, wellknown.Router}, []string{fs[0].GetName(), fs[1].GetName(), fs[2].GetName()})
	assert.NotNil(t, unpack(t, fs[0].GetTypedConfig(), &faultv3.HTTPFault{}).GetDelay())
	assert.Equal(t, uint32(418), unpack(t, fs[1].GetTypedConfig(), &faultv3.HTTPFault{}).GetAbort().GetHttpStatus())
}
