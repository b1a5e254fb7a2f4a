package durable_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

var attrCount = durable.NewSearchAttributeKey[int64]("Count")

// TestAttributesStartUpsertReplayContinue starts a run with a memo and
// search attributes, upserts both, waits for a signal (the second engine
// replays the upserts), continues as new (the values carry over) and
// starts a child with its own.
func TestAttributesStartUpsertReplayContinue(t *testing.T) {
	t.Parallel()
	ctx := waitCtx(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "attrs.db")
	memo := func(ctx context.Context, key string) string {
		var s string
		if raw, ok := durable.GetInfo(ctx).Memo[key]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return s
	}
	child := func(ctx context.Context) (string, error) {
		return fmt.Sprintf("child memo=%s", memo(ctx, "owner")), nil
	}
	var wf func(ctx context.Context, round int) (string, error)
	wf = func(ctx context.Context, round int) (string, error) {
		info := durable.GetInfo(ctx)
		n, _ := durable.GetSearchAttributes(ctx).GetInt64(attrCount)
		if round == 1 {
			got := fmt.Sprintf("after continue: memo=%s count=%d size=%d timeout=%s", memo(ctx, "owner"), n, durable.GetSearchAttributes(ctx).Size(), info.ExecutionTimeout)
			c, err := durable.Child[string](durable.WithChildOptions(ctx, durable.ChildOptions{Memo: map[string]any{"owner": "kid"}}), "AttrChild")
			return got + "; " + c, err
		}
		if info.ParentExecution != nil || info.Execution.ID != "attrs" {
			return "", fmt.Errorf("execution %+v parent %+v", info.Execution, info.ParentExecution)
		}
		if durable.HasLastCompletionResult(ctx) || !errors.Is(durable.GetLastCompletionResult(ctx, new(string)), durable.ErrNoLastCompletionResult) {
			return "", errors.New("no cron schedules: no last completion result")
		}
		if memo(ctx, "owner") != "ann" || n != 41 {
			return "", fmt.Errorf("at start: memo=%s count=%d", memo(ctx, "owner"), n)
		}
		if err := durable.UpsertMemo(ctx, map[string]any{"owner": "bob", "gone": nil}); err != nil {
			return "", err
		}
		if err := durable.UpsertTypedSearchAttributes(ctx, attrCount.ValueSet(n+1), durable.NewSearchAttributeKey[string]("Tmp").ValueUnset()); err != nil {
			return "", err
		}
		if _, err := durable.Receive[string](ctx, "go"); err != nil {
			return "", err
		}
		n2, ok := durable.GetSearchAttributes(ctx).GetInt64(attrCount)
		if !ok || n2 != n+1 || memo(ctx, "owner") != "bob" || durable.GetSearchAttributes(ctx).ContainsKey(durable.NewSearchAttributeKey[string]("Tmp")) {
			return "", fmt.Errorf("after replay: count=%d ok=%v memo=%s", n2, ok, memo(ctx, "owner"))
		}
		return "", durable.ContinueAsNew(ctx, "Attrs", 1)
	}
	e1, err := durable.Open(ctx, dsn)
	require.NoError(t, err)
	e1.RegisterWorkflow(wf, durable.WithName("Attrs"))
	e1.RegisterWorkflow(child, durable.WithName("AttrChild"))
	_, err = e1.Start(ctx, durable.StartOptions{ID: "attrs", ExecutionTimeout: time.Hour,
		Memo: map[string]any{"owner": "ann", "gone": 1}, SearchAttributes: map[string]any{"Count": 41, "Tmp": "x"}}, "Attrs", 0)
	require.NoError(t, err)
	require.NoError(t, e1.Close())

	e2 := openEngine(t, dsn)
	e2.RegisterWorkflow(wf, durable.WithName("Attrs"))
	e2.RegisterWorkflow(child, durable.WithName("AttrChild"))
	require.NoError(t, e2.Signal(ctx, "attrs", "go", "x"))
	var out string
	require.NoError(t, e2.Run("attrs").Get(ctx, &out))
	require.Equal(t, "after continue: memo=bob count=42 size=1 timeout=1h0m0s; child memo=kid", out)
}
