package vip

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// formatVersion changes when the document's meaning does; a reader refuses newer formats
// instead of dropping what it does not understand and reassigning addresses.
const formatVersion = 1

// document is the persisted form. Entries and Released are kept sorted so that an unchanged
// allocation serialises to the same bytes.
type document struct {
	Format   int        `json:"format"`
	Entries  []entry    `json:"entries"`
	Released []released `json:"released,omitempty"`
}

type entry struct {
	Key
	V4 netip.Addr `json:"v4"`
	V6 netip.Addr `json:"v6,omitzero"`
}

// released is a VIP in quarantine. It remembers its key so the same name coming back (a
// delete and re-apply, or a control plane with a slightly older model) gets its old address.
type released struct {
	entry
	At time.Time `json:"at"`
}

func decode(data []byte) (*document, error) {
	var d document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("vip: decode %s: %w", StateKey, err)
	}
	if d.Format > formatVersion {
		return nil, fmt.Errorf("vip: %s has format %d, this version understands up to %d", StateKey, d.Format, formatVersion)
	}
	return &d, nil
}

func (d *document) encode() ([]byte, error) {
	d.Format = formatVersion
	data, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("vip: encode %s: %w", StateKey, err)
	}
	return data, nil
}
