package v1alpha1

// universal decodes Kuma's universal form: `type`, `name`, `mesh` and the optional metadata
// kumactl prints, with the spec's fields beside them at the top level.
func (d *docDecoder) universal() decoded {
	typ, ok := d.requiredString("type")
	if !ok {
		return decoded{errs: d.w.errs}
	}
	info, ok := LookupKind(Kind(typ))
	if !ok {
		return d.unknownKind(d.top["type"], "type", typ)
	}
	if info.KubernetesOnly {
		d.w.errorf(d.top["type"].value, "type", "%s exists only on Kubernetes: write it as a kuma.io/v1alpha1 object", typ)
		return decoded{errs: d.w.errs}
	}
	m := d.start(info)
	var body []pair
	for _, k := range d.order {
		p := d.top[k]
		switch {
		case k == "type":
		case k == "name":
			m.Name = d.headerString(p, k)
			d.w.record(k, p.key.Line)
		case k == "mesh" && !info.Global:
			m.Mesh = d.headerString(p, k)
			d.w.record(k, p.key.Line)
		case k == "creationTime":
			m.CreationTime = d.headerTime(p, k)
		case k == "modificationTime":
			m.ModificationTime = d.headerTime(p, k)
		case k == "labels":
			d.decodeHeader(p, &m.Labels, k)
		default:
			body = append(body, p)
		}
	}
	spec, _ := specOf(d.obj)
	d.w.decodeFields(body, spec, "")
	return d.finish(info)
}
