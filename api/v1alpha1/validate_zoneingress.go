package v1alpha1

// Validate checks a ZoneIngress with Kuma's rules (pkg/core/resources/apis/mesh/
// zone_ingress_validator.go): an address and port to listen on, and an advertised address and
// port set together. Available services name their mesh and service.
func (z *ZoneIngress) Validate() ErrorList {
	var v validator
	v.meta(&z.Meta)
	n := z.Spec.Networking
	if n == nil {
		v.add("networking", "should have networking")
	} else {
		if n.Address == "" {
			v.add("networking.address", "cannot be empty")
		}
		v.port("networking.port", n.Port)
		switch {
		case n.AdvertisedAddress == "" && n.AdvertisedPort != 0:
			v.add("networking.advertisedAddress", "has to be defined with advertisedPort")
		case n.AdvertisedAddress != "" && n.AdvertisedPort == 0:
			v.add("networking.advertisedPort", "has to be defined with advertisedAddress")
		case n.AdvertisedPort != 0:
			v.port("networking.advertisedPort", n.AdvertisedPort)
		}
		if n.Admin != nil {
			v.port("networking.admin.port", n.Admin.Port)
		}
	}
	if z.Spec.Zone != "" {
		v.identifier("zone", z.Spec.Zone, dnsLabels, nameCharsetMsg)
	}
	for i, s := range z.Spec.AvailableServices {
		path := joinIndex("availableServices", i)
		v.identifier(joinField(path, "mesh"), s.Mesh, meshRefCharset, meshRefCharsetMsg)
		v.tags(joinField(path, "tags"), s.Tags, tagRules{requireService: true})
	}
	return v.errs
}
