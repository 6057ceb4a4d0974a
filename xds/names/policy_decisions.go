package names

import "google.golang.org/protobuf/types/known/structpb"

// PolicyDecision is what meshgate records, under PoliciesMetadataKey, of one policy kind that
// shaped a cluster, a route or a TCP filter chain: the winner (Applied, empty for a kind that is
// only reported), a note, and the candidates that lost. translate writes it; explain reads it.
type PolicyDecision struct {
	Kind    string
	Applied string
	Note    string
	Lost    []LostPolicy
}

// LostPolicy is a candidate that matched but was not chosen, and why.
type LostPolicy struct {
	Name   string
	Reason string
}

// The keys of a decision's struct. They are output (Envoy's config dump shows them).
const (
	decisionKindKey    = "kind"
	decisionAppliedKey = "applied"
	decisionNoteKey    = "note"
	decisionLostKey    = "lost"
	lostNameKey        = "name"
	lostReasonKey      = "reason"
)

// EncodePolicyDecisions is ds as the PoliciesMetadataKey value: a list with every struct
// carrying all four keys, `applied` and `note` possibly empty, `lost` possibly [].
func EncodePolicyDecisions(ds []PolicyDecision) *structpb.Value {
	list := make([]*structpb.Value, 0, len(ds))
	for _, d := range ds {
		lost := make([]*structpb.Value, 0, len(d.Lost))
		for _, l := range d.Lost {
			lost = append(lost, structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				lostNameKey:   structpb.NewStringValue(l.Name),
				lostReasonKey: structpb.NewStringValue(l.Reason),
			}}))
		}
		list = append(list, structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			decisionKindKey:    structpb.NewStringValue(d.Kind),
			decisionAppliedKey: structpb.NewStringValue(d.Applied),
			decisionNoteKey:    structpb.NewStringValue(d.Note),
			decisionLostKey:    structpb.NewListValue(&structpb.ListValue{Values: lost}),
		}}))
	}
	return structpb.NewListValue(&structpb.ListValue{Values: list})
}

// DecodePolicyDecisions reads back the decisions EncodePolicyDecisions wrote into s, a
// resource's MetadataNamespace struct (nil allowed); nil when none were recorded. Entries that
// are not structs are skipped; Lost is nil when no candidate lost.
func DecodePolicyDecisions(s *structpb.Struct) []PolicyDecision {
	list := s.GetFields()[PoliciesMetadataKey].GetListValue()
	if list == nil {
		return nil
	}
	var out []PolicyDecision
	for _, v := range list.GetValues() {
		f := v.GetStructValue().GetFields()
		if f == nil {
			continue
		}
		d := PolicyDecision{Kind: f[decisionKindKey].GetStringValue(), Applied: f[decisionAppliedKey].GetStringValue(), Note: f[decisionNoteKey].GetStringValue()}
		for _, l := range f[decisionLostKey].GetListValue().GetValues() {
			lf := l.GetStructValue().GetFields()
			d.Lost = append(d.Lost, LostPolicy{Name: lf[lostNameKey].GetStringValue(), Reason: lf[lostReasonKey].GetStringValue()})
		}
		out = append(out, d)
	}
	return out
}
