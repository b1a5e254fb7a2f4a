package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// RunAttributes are a run's memo and search attributes, each value
// JSON-encoded, as they stand after the last upsert in its journal.
type RunAttributes struct {
	RunID            string
	Memo             map[string]json.RawMessage
	SearchAttributes map[string]json.RawMessage
}

// Attributes returns the memo and search attributes of the newest run of
// a workflow ID, read from its journal: the ones it started with and every
// upsert since. Any process on the store can read them, including a
// client-only one.
func (e *Engine) Attributes(ctx context.Context, id string) (*RunAttributes, error) {
	r, err := e.store.CurrentRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("durable: Attributes %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("durable: Attributes %s: %w", id, err)
	}
	return e.RunAttributes(ctx, r.RunID)
}

// RunAttributes returns the memo and search attributes of one run (of any
// status), read from its journal.
func (e *Engine) RunAttributes(ctx context.Context, runID string) (*RunAttributes, error) {
	events, err := e.store.LoadJournal(ctx, runID, 0)
	if err != nil {
		return nil, fmt.Errorf("durable: Attributes of run %s: %w", runID, err)
	}
	a := &RunAttributes{RunID: runID, Memo: map[string]json.RawMessage{}, SearchAttributes: map[string]json.RawMessage{}}
	for _, ev := range events {
		switch journal.Kind(ev.Kind) {
		case journal.Started:
			var d journal.StartedData
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				return nil, fmt.Errorf("durable: Attributes of run %s: event %d: %w", runID, ev.Seq, notDecoded(ev.Data, err))
			}
			var o attributeOptions
			if len(d.Options) > 0 && json.Unmarshal(d.Options, &o) == nil {
				maps.Copy(a.Memo, o.Memo)
				maps.Copy(a.SearchAttributes, o.SearchAttributes)
			}
		case journal.AttributesUpserted:
			var d journal.AttributesData
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				return nil, fmt.Errorf("durable: Attributes of run %s: event %d: %w", runID, ev.Seq, notDecoded(ev.Data, err))
			}
			applyUpsert(a.Memo, d.Memo)
			applyUpsert(a.SearchAttributes, d.SearchAttributes)
		}
	}
	return a, nil
}
