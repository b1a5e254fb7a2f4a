package durabletest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

type regionKey struct{}

// regionPropagator carries a region under the header key "region".
type regionPropagator struct{}

func (regionPropagator) Inject(ctx context.Context, h durable.Header) error {
	if v, ok := ctx.Value(regionKey{}).(string); ok {
		h["region"] = []byte(v)
	}
	return nil
}

func (regionPropagator) Extract(ctx context.Context, h durable.Header) (context.Context, error) {
	if v, ok := h["region"]; ok {
		ctx = context.WithValue(ctx, regionKey{}, string(v))
	}
	return ctx, nil
}

func Region(ctx context.Context) (string, error) {
	v, _ := ctx.Value(regionKey{}).(string)
	return v, nil
}

func RegionFlow(ctx context.Context) (string, error) {
	v, _ := ctx.Value(regionKey{}).(string)
	a, err := durable.Call[string](ctx, Region)
	return v + "/" + a, err
}

// TestEnvContextPropagation: SetHeader's values reach the workflow and
// its activity through SetContextPropagators's propagators, as in
// Temporal's test environment; the activity listener sees them too.
func TestEnvContextPropagation(t *testing.T) {
	env := durabletest.NewEnv(t)
	env.SetContextPropagators([]durable.ContextPropagator{regionPropagator{}})
	env.SetHeader(durable.Header{"region": []byte("eu")})
	env.RegisterActivity(Region)
	var seen any
	env.SetOnActivityStartedListener(func(info *durable.ActivityInfo, ctx context.Context, args durabletest.Values) {
		seen = ctx.Value(regionKey{})
	})
	env.ExecuteWorkflow(RegionFlow)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got string
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, "eu/eu", got)
	require.Equal(t, "eu", seen)
}

// TestSuiteHeader: a suite's header reaches every Env it makes.
func TestSuiteHeader(t *testing.T) {
	var s durabletest.WorkflowTestSuite
	s.SetHeader(durable.Header{"region": []byte("us")})
	env := s.NewEnv(t)
	env.SetContextPropagators([]durable.ContextPropagator{regionPropagator{}})
	env.RegisterActivity(Region)
	env.ExecuteWorkflow(RegionFlow)
	require.NoError(t, env.GetWorkflowError())
	var got string
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, "us/us", got)
}
