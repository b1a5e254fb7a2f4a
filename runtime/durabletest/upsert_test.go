package durabletest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

func Tagging(ctx context.Context) (string, error) {
	if err := durable.UpsertMemo(ctx, map[string]any{"description": "tagged"}); err != nil {
		return "", err
	}
	if err := durable.UpsertSearchAttributes(ctx, map[string]any{"Stage": "done"}); err != nil {
		return "", err
	}
	var d string
	err := json.Unmarshal(durable.GetInfo(ctx).Memo["description"], &d)
	return d, err
}

func TestOnUpsertMemoMatchesTheUpserts(t *testing.T) {
	env := durabletest.NewEnv(t)
	env.OnUpsertMemo(map[string]any{"description": "tagged"}).Return(nil).Once()
	env.OnUpsertSearchAttributes(map[string]any{"Stage": "done"}).Return(nil).Once()
	env.ExecuteWorkflow(Tagging)
	require.NoError(t, env.GetWorkflowError())
	var got string
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, "tagged", got)
	env.AssertExpectations(t)
}

// An upsert that meets no expectation fails the test.
func TestOnUpsertMemoUnexpectedValueFails(t *testing.T) {
	rec := newRecorder(t)
	env := durabletest.NewEnv(rec)
	env.OnUpsertMemo(map[string]any{"description": "other"}).Return(nil)
	env.ExecuteWorkflow(Tagging)
	require.True(t, rec.Failed(), "an upsert with other values must fail the test")
	require.Contains(t, rec.failures(), "unexpected call of upsert UpsertMemo")
}
