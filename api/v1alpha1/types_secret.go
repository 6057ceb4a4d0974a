package v1alpha1

// Secret holds bytes a mesh's resources reference by name, such as a listener's TLS certificate.
type Secret struct {
	Meta `json:"-"`
	Spec SecretSpec
}

type SecretSpec struct {
	// Data is base64, as in Kuma's universal Secret and in a Kubernetes Secret's `data.value`.
	Data string `json:"data"`
}
