package durabletest

import (
	"context"
	"sync"

	"github.com/durablego/toolkit/runtime/durable"
)

// SetPayloadCodec makes the Env's store encode what the engine writes with
// c and decode what it reads, as durable.WithPayloadCodec does for an
// engine, so that a test runs its workflows through the codec its
// production engine uses (a converted env.SetDataConverter with a codec
// data converter becomes this call, with compat.PayloadCodec or
// compat.DataConverterCodec). Call it before the workflow starts: values
// written under one codec are not readable under another. nil removes the
// codec.
func (e *Env) SetPayloadCodec(c durable.PayloadCodec) *Env {
	e.codec.set(c)
	return e
}

// SetPayloadCodec is the Env's SetPayloadCodec for activities.
func (a *ActivityEnv) SetPayloadCodec(c durable.PayloadCodec) *ActivityEnv {
	a.env.SetPayloadCodec(c)
	return a
}

// envCodec is the codec beneath an Env's clockStore: the one a test set,
// or none. It sits below the clockStore, which reads the engine's JSON
// (retry defaults, heartbeat details), and it is settable after NewEnv
// made the engine, as Temporal's SetDataConverter is.
type envCodec struct {
	mu sync.RWMutex
	c  durable.PayloadCodec
}

func (ec *envCodec) set(c durable.PayloadCodec) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.c = c
}

func (ec *envCodec) get() durable.PayloadCodec {
	ec.mu.RLock()
	defer ec.mu.RUnlock()
	return ec.c
}

// Encode encodes with the codec set, or returns plain as it is.
func (ec *envCodec) Encode(ctx context.Context, plain []byte) ([]byte, error) {
	if c := ec.get(); c != nil {
		return c.Encode(ctx, plain)
	}
	return plain, nil
}

// Decode decodes with the codec set, or returns encoded as it is.
func (ec *envCodec) Decode(ctx context.Context, encoded []byte) ([]byte, error) {
	if c := ec.get(); c != nil {
		return c.Decode(ctx, encoded)
	}
	return encoded, nil
}
