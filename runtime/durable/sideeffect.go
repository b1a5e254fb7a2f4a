package durable

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
)

// SideEffect runs fn once and journals its result; replay returns the
// journaled value without running fn again. Use it for small
// non-deterministic values (a random ID); use an activity for anything
// that can fail or touches the outside world.
func SideEffect[T any](ctx context.Context, fn func() T) T {
	in := instanceOf(ctx, "SideEffect")
	id := in.m.NewID()
	if in.replaying() {
		data := in.command(journal.SideEffectRecorded, &journal.SideEffectData{ID: id})
		d, err := journal.Decode(journal.SideEffectRecorded, data)
		var v T
		if err == nil {
			err = json.Unmarshal(d.(*journal.SideEffectData).Value, &v)
		}
		if err != nil {
			in.stuck(fmt.Errorf("durable.SideEffect: decode journaled value into %T: %w", v, err))
			in.parkForever()
		}
		return v
	}
	v := fn()
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("durable.SideEffect: encode %T: %v", v, err))
	}
	in.command(journal.SideEffectRecorded, &journal.SideEffectData{ID: id, Value: raw})
	// Return what replay will return, so live and replayed runs agree.
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		return v
	}
	return out
}
