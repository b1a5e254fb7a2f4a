package durabletest

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"
)

// SetSearchAttributesOnStart sets the search attributes the workflow under
// test starts with (durable.StartOptions.SearchAttributes), as Temporal's
// does: the workflow reads them with durable.GetInfo and
// durable.GetSearchAttributes. It returns an error when a value does not
// encode as JSON. The last of this and SetStartWorkflowOptions wins.
func (e *Env) SetSearchAttributesOnStart(attrs map[string]any) error {
	if err := encodable("search attribute", attrs); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startOpts.SearchAttributes = maps.Clone(attrs)
	return nil
}

// SetMemoOnStart sets the memo the workflow under test starts with
// (durable.StartOptions.Memo), as Temporal's does. It returns an error
// when a value does not encode as JSON.
func (e *Env) SetMemoOnStart(memo map[string]any) error {
	if err := encodable("memo", memo); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startOpts.Memo = maps.Clone(memo)
	return nil
}

func encodable(what string, m map[string]any) error {
	for k, v := range m {
		if _, err := json.Marshal(v); err != nil {
			return fmt.Errorf("durabletest: %s %q: %w", what, k, err)
		}
	}
	return nil
}

// SetDataConverter accepts Temporal's data converter and ignores it:
// payloads are JSON in the durable runtime. The converter removes the call
// when the data converter is Temporal's default (JSON) one, and marks the
// others TODO, since what they encode differently (compression,
// encryption, another format) does not happen here.
func (e *Env) SetDataConverter(dataConverter any) *Env {
	e.tb.Helper()
	if dataConverter != nil && !isDefaultConverter(dataConverter) {
		e.tb.Logf("durabletest: SetDataConverter(%T) is ignored: payloads are JSON", dataConverter)
	}
	return e
}

// SetDataConverter is the Env's SetDataConverter for activities.
func (a *ActivityEnv) SetDataConverter(dataConverter any) *ActivityEnv {
	a.env.tb.Helper()
	a.env.SetDataConverter(dataConverter)
	return a
}

// isDefaultConverter reports whether dc is one of Temporal's own data
// converters (go.temporal.io/sdk/converter), which encode as JSON.
func isDefaultConverter(dc any) bool {
	t := reflect.TypeOf(dc)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), "go.temporal.io/sdk/converter")
}
