package shaped

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/durablego/toolkit/runtime/durable"
)

// EncodedValue is a journaled value to decode into a pointer
// (converter.EncodedValue, what workflow.SideEffect returns).
type EncodedValue interface {
	Get(valuePtr any) error
	HasValue() bool
}

type encodedValue struct{ raw json.RawMessage }

func (v encodedValue) Get(valuePtr any) error { return decode(v.raw, valuePtr) }
func (v encodedValue) HasValue() bool         { return len(v.raw) > 0 && string(v.raw) != "null" }

// SideEffect runs f once and journals its result (workflow.SideEffect);
// replay returns the journaled value without running f.
func SideEffect(ctx context.Context, f func(ctx context.Context) any) EncodedValue {
	raw := durable.SideEffect(ctx, func() json.RawMessage {
		b, err := json.Marshal(f(ctx))
		if err != nil {
			panic(fmt.Sprintf("shaped.SideEffect: encode result: %v", err))
		}
		return b
	})
	return encodedValue{raw: raw}
}

// MutableSideEffect runs f and journals its result (workflow.MutableSideEffect).
// Each call journals the value it returns, so replay returns the same
// values in the same order; id and equals are accepted for Temporal's
// signature.
func MutableSideEffect(ctx context.Context, id string, f func(ctx context.Context) any, equals func(a, b any) bool) EncodedValue {
	return SideEffect(ctx, f)
}
