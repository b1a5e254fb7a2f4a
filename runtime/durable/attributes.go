package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/durablego/toolkit/internal/journal"
)

// Memo and search attributes are key/value data attached to a run, as in
// Temporal: set when it starts (StartOptions, ChildOptions), changed by
// the workflow (UpsertMemo, UpsertSearchAttributes), read back through
// GetInfo and GetSearchAttributes, and carried to the next run of a
// continue-as-new chain. Values are stored JSON-encoded. Each upsert is
// journaled, so a replay sees the same values at the same points.

// attributes are a run's current memo and search attributes.
type attributes struct {
	memo, search map[string]json.RawMessage
}

// attributeOptions are the start options that carry memo and search
// attributes, stored in journal.StartedData.Options next to the retry
// policy (startedOptions).
type attributeOptions struct {
	Memo             map[string]json.RawMessage `json:"memo,omitempty"`
	SearchAttributes map[string]json.RawMessage `json:"searchAttributes,omitempty"`
	// ExecutionTimeout is the chain's timeout as given at start;
	// journal.StartedData.Deadline is when it ends.
	ExecutionTimeout time.Duration `json:"executionTimeout,omitempty"`
}

// encodeStartOptions returns the journal.StartedData.Options of a run
// started with opts, or nil when there are none.
func encodeStartOptions(opts StartOptions) (json.RawMessage, error) {
	memo, err := encodeAttributes(opts.Memo)
	if err != nil {
		return nil, fmt.Errorf("StartOptions.Memo: %w", err)
	}
	search, err := encodeAttributes(opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("StartOptions.SearchAttributes: %w", err)
	}
	for k, v := range opts.TypedSearchAttributes.values {
		if string(v) == "null" {
			continue
		}
		if search == nil {
			search = map[string]json.RawMessage{}
		}
		search[k] = v
	}
	o := struct {
		startedOptions
		attributeOptions
	}{startedOptions{RetryPolicy: toRetryPolicyWire(opts.RetryPolicy)}, attributeOptions{Memo: memo, SearchAttributes: search, ExecutionTimeout: max(opts.ExecutionTimeout, 0)}}
	if o.RetryPolicy == nil && memo == nil && search == nil && o.ExecutionTimeout == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(&o)
	if err != nil {
		if _, perr := json.Marshal(opts.RetryPolicy); perr != nil {
			return nil, fmt.Errorf("StartOptions.RetryPolicy: %w", perr)
		}
	}
	return raw, err
}

// withAttributes returns options (journal.StartedData.Options) with the
// memo and search attributes replaced by a's.
func withAttributes(options json.RawMessage, a *attributes) json.RawMessage {
	var o map[string]json.RawMessage
	if len(options) > 0 && json.Unmarshal(options, &o) != nil {
		return options
	}
	if o == nil {
		o = map[string]json.RawMessage{}
	}
	set := func(key string, m map[string]json.RawMessage) {
		delete(o, key)
		if len(m) > 0 {
			o[key], _ = json.Marshal(m)
		}
	}
	set("memo", a.memo)
	set("searchAttributes", a.search)
	if len(o) == 0 {
		return nil
	}
	raw, _ := json.Marshal(o)
	return raw
}

// encodeAttributes JSON-encodes each value of m; a nil value stays null.
func encodeAttributes(m map[string]any) (map[string]json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = raw
	}
	return out, nil
}

// attributes returns the run's memo and search attributes, read from its
// start options on first use.
func (in *instance) attributes() *attributes {
	if a := in.extra.attrs; a != nil {
		return a
	}
	a := &attributes{memo: map[string]json.RawMessage{}, search: map[string]json.RawMessage{}}
	var o attributeOptions
	if len(in.started.Options) > 0 && json.Unmarshal(in.started.Options, &o) == nil {
		maps.Copy(a.memo, o.Memo)
		maps.Copy(a.search, o.SearchAttributes)
	}
	in.extra.attrs = a
	return a
}

// executionTimeout is the ExecutionTimeout the run's chain started with.
func (in *instance) executionTimeout() time.Duration {
	var o attributeOptions
	if len(in.started.Options) > 0 && json.Unmarshal(in.started.Options, &o) == nil && o.ExecutionTimeout > 0 {
		return o.ExecutionTimeout
	}
	return 0
}

// upsertAttributes journals and applies an upsert.
func (in *instance) upsertAttributes(d *journal.AttributesData) {
	in.command(journal.AttributesUpserted, d)
	a := in.attributes()
	applyUpsert(a.memo, d.Memo)
	applyUpsert(a.search, d.SearchAttributes)
}

// applyUpsert applies an upsert's values to a run's memo or search
// attributes: null removes a field.
func applyUpsert(dst, src map[string]json.RawMessage) {
	for k, v := range src {
		if string(v) == "null" {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// UpsertMemo adds or replaces fields of the run's memo; a nil value
// removes a field (Temporal's workflow.UpsertMemo).
func UpsertMemo(ctx context.Context, memo map[string]any) error {
	in := instanceOf(ctx, "UpsertMemo")
	m, err := encodeAttributes(memo)
	if err != nil {
		return fmt.Errorf("durable.UpsertMemo: %w", err)
	}
	if len(m) == 0 {
		return nil
	}
	in.observeUpsert(ctx, memo, nil)
	in.upsertAttributes(&journal.AttributesData{Memo: m})
	return nil
}

// UpsertSearchAttributes adds or replaces search attributes of the run; a
// nil value removes one (Temporal's workflow.UpsertSearchAttributes).
func UpsertSearchAttributes(ctx context.Context, attrs map[string]any) error {
	in := instanceOf(ctx, "UpsertSearchAttributes")
	m, err := encodeAttributes(attrs)
	if err != nil {
		return fmt.Errorf("durable.UpsertSearchAttributes: %w", err)
	}
	if len(m) == 0 {
		return nil
	}
	in.observeUpsert(ctx, nil, attrs)
	in.upsertAttributes(&journal.AttributesData{SearchAttributes: m})
	return nil
}

// SearchAttributeKey names a search attribute whose values are Ts
// (Temporal's typed search attribute keys).
type SearchAttributeKey[T any] struct{ name string }

// NewSearchAttributeKey returns the key of the search attribute name.
func NewSearchAttributeKey[T any](name string) SearchAttributeKey[T] {
	return SearchAttributeKey[T]{name: name}
}

// GetName returns the attribute's name.
func (k SearchAttributeKey[T]) GetName() string { return k.name }

// ValueSet returns the update that sets the attribute to v.
func (k SearchAttributeKey[T]) ValueSet(v T) SearchAttributeUpdate {
	return SearchAttributeUpdate{name: k.name, value: v}
}

// ValueUnset returns the update that removes the attribute.
func (k SearchAttributeKey[T]) ValueUnset() SearchAttributeUpdate {
	return SearchAttributeUpdate{name: k.name, unset: true}
}

// SearchAttributeUpdate is one change UpsertTypedSearchAttributes applies.
type SearchAttributeUpdate struct {
	name  string
	value any
	unset bool
}

// UpsertTypedSearchAttributes applies updates to the run's search
// attributes (Temporal's workflow.UpsertTypedSearchAttributes).
func UpsertTypedSearchAttributes(ctx context.Context, updates ...SearchAttributeUpdate) error {
	m := make(map[string]any, len(updates))
	for _, u := range updates {
		if u.unset {
			m[u.name] = nil
		} else {
			m[u.name] = u.value
		}
	}
	return UpsertSearchAttributes(ctx, m)
}

// SearchAttributes is a snapshot of a run's search attributes.
type SearchAttributes struct {
	values map[string]json.RawMessage
}

// GetSearchAttributes returns the run's current search attributes
// (Temporal's workflow.GetTypedSearchAttributes).
func GetSearchAttributes(ctx context.Context) SearchAttributes {
	a := instanceOf(ctx, "GetSearchAttributes").attributes()
	return SearchAttributes{values: maps.Clone(a.search)}
}

// SearchAttributeValue returns the value of key in s and whether it is set
// and decodes as a T.
func SearchAttributeValue[T any](s SearchAttributes, key SearchAttributeKey[T]) (T, bool) {
	var v T
	raw, ok := s.values[key.name]
	if !ok || json.Unmarshal(raw, &v) != nil {
		return v, false
	}
	return v, true
}

// GetString returns a string (or keyword) attribute.
func (s SearchAttributes) GetString(key SearchAttributeKey[string]) (string, bool) {
	return SearchAttributeValue(s, key)
}

// GetKeyword returns a keyword attribute, as GetString.
func (s SearchAttributes) GetKeyword(key SearchAttributeKey[string]) (string, bool) {
	return SearchAttributeValue(s, key)
}

// GetKeywordList returns a keyword list attribute.
func (s SearchAttributes) GetKeywordList(key SearchAttributeKey[[]string]) ([]string, bool) {
	return SearchAttributeValue(s, key)
}

// GetInt64 returns an integer attribute.
func (s SearchAttributes) GetInt64(key SearchAttributeKey[int64]) (int64, bool) {
	return SearchAttributeValue(s, key)
}

// GetFloat64 returns a floating-point attribute.
func (s SearchAttributes) GetFloat64(key SearchAttributeKey[float64]) (float64, bool) {
	return SearchAttributeValue(s, key)
}

// GetBool returns a boolean attribute.
func (s SearchAttributes) GetBool(key SearchAttributeKey[bool]) (bool, bool) {
	return SearchAttributeValue(s, key)
}

// GetTime returns a time attribute.
func (s SearchAttributes) GetTime(key SearchAttributeKey[time.Time]) (time.Time, bool) {
	return SearchAttributeValue(s, key)
}

// ContainsKey reports whether the attribute name is set.
func (s SearchAttributes) ContainsKey(key interface{ GetName() string }) bool {
	_, ok := s.values[key.GetName()]
	return ok
}

// Size returns the number of attributes set.
func (s SearchAttributes) Size() int { return len(s.values) }

// GetUntypedValues returns every attribute, decoded from JSON, by key.
func (s SearchAttributes) GetUntypedValues() map[SearchAttributeKey[any]]any {
	out := make(map[SearchAttributeKey[any]]any, len(s.values))
	for _, k := range slices.Sorted(maps.Keys(s.values)) {
		var v any
		_ = json.Unmarshal(s.values[k], &v)
		out[SearchAttributeKey[any]{name: k}] = v
	}
	return out
}
