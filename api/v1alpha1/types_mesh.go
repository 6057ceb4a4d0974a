package v1alpha1

// Mesh is an isolation unit with its own CA.
type Mesh struct {
	Meta `json:"-"`
	Spec MeshSpec
}

type MeshSpec struct {
	MTLS       *MTLS          `json:"mtls,omitempty"`
	Logging    *Logging       `json:"logging,omitempty"`
	Tracing    map[string]any `json:"tracing,omitempty"`
	Metrics    map[string]any `json:"metrics,omitempty"`
	Networking map[string]any `json:"networking,omitempty"`
	Routing    *Routing       `json:"routing,omitempty"`
	// Constraints and MeshServices are Kuma fields meshgate accepts and does not use yet.
	Constraints                 map[string]any `json:"constraints,omitempty"`
	MeshServices                map[string]any `json:"meshServices,omitempty"`
	SkipCreatingInitialPolicies []string       `json:"skipCreatingInitialPolicies,omitempty"`
}

// MTLSEnabled reports whether the mesh has an enabled CA backend.
func (m *MeshSpec) MTLSEnabled() bool { return m.MTLS != nil && m.MTLS.EnabledBackend != "" }

// MTLSPermissive reports whether the enabled CA backend is in PERMISSIVE mode: inbounds accept
// plain-text connections next to mTLS ones, for migrating services into the mesh.
func (m *MeshSpec) MTLSPermissive() bool {
	if !m.MTLSEnabled() {
		return false
	}
	for _, b := range m.MTLS.Backends {
		if b.Name == m.MTLS.EnabledBackend {
			return b.Mode == CAModePermissive
		}
	}
	return false
}

type MTLS struct {
	EnabledBackend string      `json:"enabledBackend,omitempty"`
	Backends       []CABackend `json:"backends,omitempty"`
	SkipValidation bool        `json:"skipValidation,omitempty"`
}

// CABackend is one certificate authority a mesh may use: builtin, provided or step-ca.
type CABackend struct {
	Name      string         `json:"name"`
	Type      string         `json:"type"`
	Mode      string         `json:"mode,omitempty"`
	DpCert    *DpCert        `json:"dpCert,omitempty"`
	Conf      map[string]any `json:"conf,omitempty"`
	RootChain *RootChain     `json:"rootChain,omitempty"`
}

type DpCert struct {
	Rotation       *Rotation `json:"rotation,omitempty"`
	RequestTimeout string    `json:"requestTimeout,omitempty"`
}

type Rotation struct {
	Expiration string `json:"expiration,omitempty"`
}

type RootChain struct {
	RequestTimeout string `json:"requestTimeout,omitempty"`
}

type Routing struct {
	LocalityAwareLoadBalancing            bool `json:"localityAwareLoadBalancing,omitempty"`
	ZoneEgress                            bool `json:"zoneEgress,omitempty"`
	DefaultForbidMutualTLSExternalService bool `json:"defaultForbidMutualTlsExternalService,omitempty"`
}

// CA backend types. `stepca` is meshgate's own type for an external step-ca (smallstep)
// server; Kuma has no such type, so no existing Kuma mesh spells it differently.
const (
	CABackendBuiltin  = "builtin"
	CABackendProvided = "provided"
	CABackendStepCA   = "stepca"
)

// CA backend modes, as in Kuma; empty means STRICT.
const (
	CAModeStrict     = "STRICT"
	CAModePermissive = "PERMISSIVE"
)
