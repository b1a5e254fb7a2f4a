package compat

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/durablego/toolkit/runtime/durable"
)

// ContextPropagator adapts a Temporal context propagator to the runtime's,
// so a program's propagator (workflow.ContextPropagator) works unchanged
// after conversion: its Inject and Extract run where the runtime hands
// work on and takes it up, and its payloads are kept in the run's header
// as Temporal's wire form of a payload. The workflow-side methods
// (InjectFromWorkflow, ExtractToWorkflow) are not called: converted
// workflows have a context.Context, which Inject and Extract take.
func ContextPropagator(p workflow.ContextPropagator) durable.ContextPropagator {
	return propagator{p}
}

// ContextPropagators adapts each of ps (ContextPropagator), for
// durable.WithContextPropagators(compat.ContextPropagators(ps)...) and
// durabletest's Env.SetContextPropagators.
func ContextPropagators(ps []workflow.ContextPropagator) []durable.ContextPropagator {
	out := make([]durable.ContextPropagator, len(ps))
	for i, p := range ps {
		out[i] = ContextPropagator(p)
	}
	return out
}

// Header converts a Temporal header (what a test sets with SetHeader) to
// the runtime's, in the form ContextPropagator reads. It panics if a
// payload does not encode (a metadata key that is not UTF-8), which only
// a test's own header can hold.
func Header(h *commonpb.Header) durable.Header {
	out := durable.Header{}
	for k, p := range h.GetFields() {
		b, err := proto.Marshal(p)
		if err != nil {
			panic(fmt.Sprintf("compat.Header: header %q: %v", k, err))
		}
		out[k] = b
	}
	return out
}

type propagator struct{ p workflow.ContextPropagator }

func (a propagator) Inject(ctx context.Context, h durable.Header) error {
	w := &headerRW{h: h}
	if err := a.p.Inject(ctx, w); err != nil {
		return err
	}
	return w.err
}

func (a propagator) Extract(ctx context.Context, h durable.Header) (context.Context, error) {
	return a.p.Extract(ctx, &headerRW{h: h})
}

// headerRW is a durable.Header seen as Temporal's HeaderWriter and
// HeaderReader: each value is a payload in its protobuf wire form.
type headerRW struct {
	h   durable.Header
	err error // the first payload that did not encode
}

func (rw *headerRW) Set(key string, value *commonpb.Payload) {
	b, err := proto.Marshal(value)
	if err != nil {
		if rw.err == nil {
			rw.err = fmt.Errorf("header %q: %w", key, err)
		}
		return
	}
	rw.h[key] = b
}

func (rw *headerRW) Get(key string) (*commonpb.Payload, bool) {
	b, ok := rw.h[key]
	if !ok {
		return nil, false
	}
	p := &commonpb.Payload{}
	if proto.Unmarshal(b, p) != nil {
		return nil, false
	}
	return p, true
}

func (rw *headerRW) ForEachKey(handler func(string, *commonpb.Payload) error) error {
	for k := range rw.h {
		p, ok := rw.Get(k)
		if !ok {
			continue
		}
		if err := handler(k, p); err != nil {
			return err
		}
	}
	return nil
}
