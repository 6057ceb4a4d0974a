package v1alpha1

// dataSource checks a DataSource, which is a oneof in Kuma's proto: exactly one source.
func (v *validator) dataSource(path string, d DataSource) {
	n := 0
	for _, s := range []string{d.Secret, d.File, d.Inline, d.InlineString} {
		if s != "" {
			n++
		}
	}
	switch {
	case n == 0:
		v.add(path, "data source has to be chosen. Available sources: secret, file, inline, inlineString")
	case n > 1:
		v.add(path, "only one of secret, file, inline or inlineString can be set")
	}
	if d.Inline != "" && !validBase64(d.Inline) {
		v.add(joinField(path, "inline"), "must be valid base64")
	}
}
