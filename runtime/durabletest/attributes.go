package durabletest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
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
// when the data converter is Temporal's default (JSON) one, and turns a
// codec data converter into SetPayloadCodec. A durable.PayloadCodec given
// here is applied as SetPayloadCodec applies it.
func (e *Env) SetDataConverter(dataConverter any) *Env {
	e.tb.Helper()
	if c, ok := dataConverter.(durable.PayloadCodec); ok {
		return e.SetPayloadCodec(c)
	}
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

// OnUpsertMemo sets up an expectation of an upsert of the workflow's memo
// with memo (matched as OnActivity matches arguments), as Temporal's does.
// Once the memo has an expectation, every upsert of it must meet one; any
// other fails the test. Return(nil) is the only answer: an upsert cannot
// fail on the durable engine.
func (e *Env) OnUpsertMemo(memo any) *MockCall {
	e.tb.Helper()
	return e.onUpsert("UpsertMemo", memo)
}

// OnUpsertSearchAttributes sets up an expectation of an upsert of the
// workflow's search attributes with attrs (a map[string]any; a removed
// attribute is nil), as OnUpsertMemo does for the memo.
func (e *Env) OnUpsertSearchAttributes(attrs any) *MockCall {
	e.tb.Helper()
	return e.onUpsert("UpsertSearchAttributes", attrs)
}

func (e *Env) onUpsert(name string, arg any) *MockCall {
	at := "?"
	if _, file, line, ok := runtime.Caller(2); ok {
		at = fmt.Sprintf("%s:%d", file[strings.LastIndexByte(file, '/')+1:], line)
	}
	x := &expectation{e: e, kind: "upsert", name: name, args: []any{arg}, at: at}
	e.mu.Lock()
	e.mocked["upsert:"+name] = true
	e.mu.Unlock()
	e.mock.add(x)
	return &MockCall{e: e, x: x}
}

// upserted is the engine's UpsertObserver: it checks an upsert against
// the expectations set for it, if any.
func (e *Env) upserted(ctx context.Context, memo, search map[string]any) {
	check := func(name string, values map[string]any) {
		if values == nil {
			return
		}
		e.mu.Lock()
		mocked := e.mocked["upsert:"+name]
		e.mu.Unlock()
		if !mocked {
			return
		}
		ret, err := e.mock.called("upsert", name, []any{values}, func(time.Duration) {})
		if err != nil {
			e.tb.Errorf("durabletest: %v", err)
			return
		}
		if len(ret) > 0 && ret[0] != nil {
			e.tb.Errorf("durabletest: the mock of %s returns %v: an upsert cannot fail on the durable engine; return nil", name, ret[0])
		}
	}
	check("UpsertMemo", memo)
	check("UpsertSearchAttributes", search)
	if search != nil {
		e.mu.Lock()
		typed := e.mocked["upsert:UpsertTypedSearchAttributes"]
		e.mu.Unlock()
		if typed {
			enc := map[string]string{}
			for k, v := range search {
				b, err := json.Marshal(v)
				if err != nil {
					e.tb.Errorf("durabletest: UpsertTypedSearchAttributes: %s: %v", k, err)
					return
				}
				enc[k] = string(b)
			}
			if _, err := e.mock.called("upsert", "UpsertTypedSearchAttributes", []any{enc}, func(time.Duration) {}); err != nil {
				e.tb.Errorf("durabletest: %v", err)
			}
		}
	}
}

// SetTypedSearchAttributesOnStart sets the search attributes the workflow
// under test starts with, made with durable.NewSearchAttributes (Temporal's
// SetTypedSearchAttributesOnStart).
func (e *Env) SetTypedSearchAttributesOnStart(attrs durable.SearchAttributes) error {
	m := map[string]any{}
	for k, raw := range attrs.Encoded() {
		if string(raw) == "null" {
			continue
		}
		m[k] = raw
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startOpts.SearchAttributes = m
	return nil
}

// OnUpsertTypedSearchAttributes sets up an expectation of an upsert of
// the workflow's search attributes equal to attrs (made with
// durable.NewSearchAttributes; an unset attribute is null), compared as
// JSON values by name, as Temporal's OnUpsertTypedSearchAttributes does.
func (e *Env) OnUpsertTypedSearchAttributes(attrs durable.SearchAttributes) *MockCall {
	e.tb.Helper()
	enc := map[string]string{}
	for k, raw := range attrs.Encoded() {
		enc[k] = string(raw)
	}
	return e.onUpsert("UpsertTypedSearchAttributes", enc)
}
