package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// userKey is the context key of the Temporal-style propagator below.
type userKey struct{}

// userPropagator is a propagator as Temporal programs write them: values
// go through the default data converter into payloads.
type userPropagator struct{}

func (userPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	if v := ctx.Value(userKey{}); v != nil {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			return err
		}
		w.Set("user", p)
	}
	return nil
}

func (userPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	return nil
}

func (userPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if p, ok := r.Get("user"); ok {
		var user string
		if err := converter.GetDefaultDataConverter().FromPayload(p, &user); err != nil {
			return ctx, err
		}
		return context.WithValue(ctx, userKey{}, user), nil
	}
	return ctx, nil
}

func (userPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	return ctx, nil
}

// WhoAmI reports the user its context carries.
func WhoAmI(ctx context.Context) (string, error) {
	user, _ := ctx.Value(userKey{}).(string)
	return user, nil
}

// WhoFlow reports the user its code and its activity see.
func WhoFlow(ctx context.Context) (string, error) {
	user, _ := ctx.Value(userKey{}).(string)
	a, err := durable.Call[string](ctx, WhoAmI)
	return user + "/" + a, err
}

// TestContextPropagator: a Temporal propagator, adapted, carries a value
// from Start's context into the workflow and its activity; a header a
// test sets (SetHeader's) reaches them the same way.
func TestContextPropagator(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := durable.Open(ctx, "memory:", durable.WithContextPropagators(compat.ContextPropagators([]workflow.ContextPropagator{userPropagator{}})...))
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(WhoFlow)
	e.RegisterActivity(WhoAmI)

	run, err := e.Start(context.WithValue(ctx, userKey{}, "ada"), durable.StartOptions{}, WhoFlow)
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, "ada/ada", got)

	p, err := converter.GetDefaultDataConverter().ToPayload("grace")
	require.NoError(t, err)
	h := compat.Header(&commonpb.Header{Fields: map[string]*commonpb.Payload{"user": p}})
	run, err = e.Start(ctx, durable.StartOptions{Header: h}, WhoFlow)
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, "grace/grace", got)
}
