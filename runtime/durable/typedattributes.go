package durable

import (
	"encoding/json"
	"maps"
)

// NewSearchAttributes returns the search attributes updates set
// (Temporal's temporal.NewSearchAttributes), for
// StartOptions.TypedSearchAttributes and test expectations. An attribute
// an update unsets is held as null, as an upsert removes it.
func NewSearchAttributes(updates ...SearchAttributeUpdate) SearchAttributes {
	s := SearchAttributes{values: make(map[string]json.RawMessage, len(updates))}
	for _, u := range updates {
		raw := json.RawMessage("null")
		if !u.unset {
			if b, err := json.Marshal(u.value); err == nil {
				raw = b
			}
		}
		s.values[u.name] = raw
	}
	return s
}

// Encoded returns the attributes as JSON values by name, null for an
// unset one.
func (s SearchAttributes) Encoded() map[string]json.RawMessage { return maps.Clone(s.values) }
