package durable_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// AnyWorkflow is a dynamic workflow: it runs every workflow name nothing
// else registered, and calls an activity by a name nothing registered
// when its own starts with "call-".
func AnyWorkflow(ctx context.Context, args durable.EncodedValues) (string, error) {
	var a, b string
	if err := args.Get(&a, &b); err != nil {
		return "", err
	}
	name := durable.GetInfo(ctx).Workflow
	if strings.HasPrefix(name, "call-") {
		return durable.Call[string](ctx, "some-activity", a, b)
	}
	return fmt.Sprintf("%s - %s - %s", name, a, b), nil
}

// AnyActivity is a dynamic activity.
func AnyActivity(ctx context.Context, args durable.EncodedValues) (string, error) {
	var a, b string
	if err := args.Get(&a, &b); err != nil {
		return "", err
	}
	info := durable.GetActivityInfo(ctx)
	return fmt.Sprintf("%s/%s - %s - %s", info.Workflow, info.Activity, a, b), nil
}

func KnownWorkflow(ctx context.Context, s string) (string, error) { return "known " + s, nil }

func TestDynamic(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(KnownWorkflow)
	e.RegisterDynamicWorkflow(AnyWorkflow)
	e.RegisterDynamicActivity(AnyActivity)

	for _, tc := range []struct {
		name     string
		workflow string
		args     []any
		want     string
		err      string
	}{
		{"RegisteredNameWins", "KnownWorkflow", []any{"x"}, "known x", ""},
		{"AnyOtherNameRunsTheDynamicWorkflow", "DurableExecution", []any{"Hello", "Temporal"}, "DurableExecution - Hello - Temporal", ""},
		{"DynamicActivity", "call-activity", []any{"Peanut", "Butter"}, "call-activity/some-activity - Peanut - Butter", ""},
		{"TooFewArguments", "short", []any{"only"}, "", "2 requested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := e.Start(ctx, durable.StartOptions{ID: tc.name}, tc.workflow, tc.args...)
			require.NoError(t, err)
			var got string
			err = run.Get(ctx, &got)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("OneDynamicWorkflowPerEngine", func(t *testing.T) {
		require.PanicsWithError(t, "durable: register dynamic workflow: AnyWorkflow is registered already, and an engine has one", func() {
			e.RegisterDynamicWorkflow(func(ctx context.Context, args durable.EncodedValues) (string, error) { return "", nil })
		})
	})
}
