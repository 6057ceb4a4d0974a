package v1alpha1

// IsProxyless reports whether the Dataplane is a proxyless gRPC application
// (ProxyTypeLabel: ProxyTypeProxyless) rather than an Envoy.
func (d *Dataplane) IsProxyless() bool {
	return d.Labels[ProxyTypeLabel] == ProxyTypeProxyless
}

// proxyType checks ProxyTypeLabel: a misspelt value would silently make the dataplane an
// Envoy, and a gRPC application can be neither a gateway nor behind a transparent proxy.
func (v *validator) proxyType(d *Dataplane) {
	t, ok := d.Labels[ProxyTypeLabel]
	if !ok {
		return
	}
	path := joinKey("labels", ProxyTypeLabel)
	if t != ProxyTypeProxyless {
		v.addf(path, "must be %q (or absent, for an Envoy), got %q", ProxyTypeProxyless, t)
		return
	}
	n := &d.Spec.Networking
	if n.Gateway != nil {
		v.add("networking.gateway", "a proxyless (gRPC) dataplane cannot be a gateway")
	}
	if n.TransparentProxying != nil {
		v.add("networking.transparentProxying", "a proxyless (gRPC) dataplane dials its outbounds itself; there is no traffic to redirect")
	}
}
