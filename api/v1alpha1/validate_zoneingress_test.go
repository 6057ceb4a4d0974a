package v1alpha1

import "testing"

func TestZoneIngressValidation(t *testing.T) {
	const head = "type: ZoneIngress\nname: zone-2-ingress\n"
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: ZoneIngress zone-2-ingress: ", line) + rest
	}
	runErrCases(t, []errCase{
		{"valid", head + `zone: zone-2
networking:
  address: 10.0.2.1
  port: 10001
  advertisedAddress: 203.0.113.2
  advertisedPort: 10001
  admin: {port: 9901}
availableServices:
  - mesh: default
    tags: {kuma.io/service: api, kuma.io/protocol: http}
    instances: 2
`, nil},
		{"valid without advertised address", head + "networking: {address: 10.0.2.1, port: 10001}\n", nil},
		{"no networking", head, []string{e(1, "networking: should have networking")}},
		{"no address or port", head + "networking: {advertisedAddress: 203.0.113.2}\n", []string{
			e(3, "networking.address: cannot be empty"),
			e(3, "networking.advertisedPort: has to be defined with advertisedAddress"),
			e(3, "networking.port: port must be in the range [1, 65535]"),
		}},
		{"advertised port alone", head + "networking: {address: 10.0.2.1, port: 1, advertisedPort: 2}\n", []string{
			e(3, "networking.advertisedAddress: has to be defined with advertisedPort"),
		}},
		{"bad zone and services", head + `zone: Zone_2
networking: {address: 10.0.2.1, port: 1}
availableServices:
  - tags: {version: v1}
`, []string{
			e(3, "zone: "+nameCharsetMsg),
			e(6, "availableServices[0].mesh: cannot be empty"),
			e(6, `availableServices[0].tags: mandatory tag "kuma.io/service" is missing`),
		}},
	})
}
