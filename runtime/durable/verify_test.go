package durable_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
)

// journalOf runs Steps3 and returns its journal.
func journalOf(t *testing.T, e *durable.Engine, id string) []store.Event {
	t.Helper()
	ctx := waitCtx(t)
	run, err := e.Start(ctx, durable.StartOptions{ID: id}, Steps3, "x")
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))
	r, err := e.Store().CurrentRun(ctx, id)
	require.NoError(t, err)
	events, err := e.Store().LoadJournal(ctx, r.RunID, 0)
	require.NoError(t, err)
	return events
}

func TestReplay(t *testing.T) {
	t.Parallel()
	e := openEngine(t, "memory:")
	e.RegisterWorkflow(Steps3)
	e.RegisterActivity(Dot)
	ctx := context.Background()

	t.Run("SameJournalReplays", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, e.Replay(ctx, "r1", "Steps3", journalOf(t, e, "r1")))
	})

	t.Run("ChangedArgumentValueIsADivergence", func(t *testing.T) {
		t.Parallel()
		events := journalOf(t, e, "r2")
		for i, ev := range events {
			if ev.Kind == "ActivityScheduled" && strings.Contains(string(ev.Data), `"x."`) {
				events[i].Data = []byte(strings.Replace(string(ev.Data), `"x."`, `"y."`, 1))
				break
			}
		}
		err := e.Replay(ctx, "r2", "Steps3", events)
		var nd *durable.NonDeterminismError
		require.ErrorAs(t, err, &nd)
		require.Contains(t, nd.Code, `"x."`)
	})

	t.Run("DifferentEndingIsAnErrorNotAPanic", func(t *testing.T) {
		t.Parallel()
		events := journalOf(t, e, "r3")
		last := &events[len(events)-1]
		require.Equal(t, "Completed", last.Kind)
		last.Kind = "Failed"
		last.Data = []byte(`{"error":{"message":"boom"}}`)
		err := e.Replay(ctx, "r3", "Steps3", events)
		require.Error(t, err)
	})
}
