package v1alpha1

// Validate checks a Secret: Kuma requires data, and meshgate also requires it to decode, since
// a listener would otherwise fail only when its certificate is loaded.
func (s *Secret) Validate() ErrorList {
	var v validator
	v.meta(&s.Meta)
	switch {
	case s.Spec.Data == "":
		v.add("data", "cannot be empty")
	case !validBase64(s.Spec.Data):
		v.add("data", "must be valid base64")
	}
	return v.errs
}

// Bytes returns the decoded data.
func (s *SecretSpec) Bytes() ([]byte, error) { return DecodeBase64(s.Data) }
