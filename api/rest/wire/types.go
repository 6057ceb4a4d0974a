package wire

import "encoding/json"

// Media types the API reads and writes.
const (
	ContentJSON = "application/json"
	ContentYAML = "application/yaml"
)

// Error is Kuma's error body: a title, details and, for invalid input, one cause per
// violation. Resource and Line are meshgate's additions; they let a client point at the
// document of a multi-resource apply that is wrong.
type Error struct {
	Title   string  `json:"title"`
	Details string  `json:"details"`
	Causes  []Cause `json:"causes,omitempty"`
}

// Cause is one violation: a field path in Kuma's notation and what is wrong with it.
type Cause struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Resource names the resource as errors do (`MeshGateway default/edge`).
	Resource string `json:"resource,omitempty"`
	// Line is the line in the request body, when the body was decoded that far.
	Line int `json:"line,omitempty"`
}

// List is one page of a listing, as Kuma returns it. Next is the absolute URL of the next page,
// or null on the last one.
type List struct {
	Total int               `json:"total"`
	Items []json.RawMessage `json:"items"`
	Next  *string           `json:"next"`
}

// Apply outcomes per resource, as kubectl prints them.
const (
	StatusCreated    = "created"
	StatusConfigured = "configured"
	StatusUnchanged  = "unchanged"
)

// ApplyResponse reports what POST /apply did to each resource of the body, in body order.
type ApplyResponse struct {
	Results []ApplyResult `json:"results"`
}

type ApplyResult struct {
	Type    string `json:"type"`
	Mesh    string `json:"mesh,omitempty"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Status  string `json:"status"`
}
