package durabletest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

var ownerKey = durable.NewSearchAttributeKey[string]("Owner")

// OwnerWorkflow reads its start search attributes and memo, and runs a
// child.
func OwnerWorkflow(ctx context.Context) (string, error) {
	owner, _ := durable.GetSearchAttributes(ctx).GetKeyword(ownerKey)
	var note string
	if err := json.Unmarshal(durable.GetInfo(ctx).Memo["note"], &note); err != nil {
		return "", err
	}
	ctx = durable.WithChildOptions(ctx, durable.ChildOptions{ID: "greeter"})
	greeting, err := durable.Child[string](ctx, ChildGreeting, owner)
	return greeting + " " + note, err
}

func TestStartAttributes(t *testing.T) {
	t.Parallel()
	env := durabletest.NewEnv(t)
	require.NoError(t, env.SetSearchAttributesOnStart(map[string]any{"Owner": "ann"}))
	require.NoError(t, env.SetMemoOnStart(map[string]any{"note": "hi"}))
	require.Error(t, env.SetMemoOnStart(map[string]any{"bad": func() {}}))
	env.SetDataConverter(nil)
	env.RegisterWorkflow(ChildGreeting)
	var children []string
	env.SetOnChildWorkflowStartedListener(func(info *durable.Info, ctx context.Context, args durabletest.Values) {
		var name string
		require.NoError(t, args.Get(&name))
		children = append(children, info.WorkflowID+"("+name+")")
	})
	env.ExecuteWorkflow(OwnerWorkflow)
	var got string
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, "Hello ann! hi", got)
	// Once, though the replay check replays the child.
	require.Equal(t, []string{"greeter(ann)"}, children)
}
